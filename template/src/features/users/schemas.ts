import { z } from 'zod';
import type { UserRow } from './repository.ts';

/** The only shape in which a user leaves the API: no hash, no internal columns (B4). */
export const userSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  displayName: z.string(),
  role: z.enum(['user', 'admin']),
  createdAt: z.iso.datetime(),
});

export type UserJson = z.output<typeof userSchema>;

export function toUserJson(row: UserRow): UserJson {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    createdAt: row.created_at.toISOString(),
  };
}
