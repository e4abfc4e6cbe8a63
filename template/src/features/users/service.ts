import type { Database } from '../../db/database.ts';
import { HttpError } from '../../http/errors.ts';
import { toPage, type Position } from '../../http/pagination.ts';
import { findUserById, listUsers, setRoleByEmail } from './repository.ts';
import { toUserJson, type UserJson } from './schemas.ts';

export function createUserService(db: Database) {
  return {
    async profile(id: string): Promise<UserJson> {
      const row = await findUserById(db, id);
      // The token outlived its account: treat it as unauthenticated.
      if (row === undefined) throw new HttpError(401, 'A valid access token is required');
      return toUserJson(row);
    },
    async list(limit: number, after: Position | undefined) {
      return toPage(await listUsers(db, limit, after), limit, toUserJson);
    },
    /** Operator-only: promotes an existing account. There is no other way to make an admin (D8). */
    async promoteToAdmin(email: string): Promise<UserJson | undefined> {
      const row = await setRoleByEmail(db, email.toLowerCase(), 'admin');
      return row === undefined ? undefined : toUserJson(row);
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
