import { z } from 'zod';

/** Page size for list endpoints: 1–100, default 20 (A8: no unbounded lists). */
export const MAX_PAGE_SIZE = 100;

export const limitParam = z
  .string()
  .regex(/^[0-9]{1,3}$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_PAGE_SIZE))
  .optional()
  .describe(`Page size, 1–${MAX_PAGE_SIZE} (default 20)`);

export interface Position {
  createdAt: Date;
  id: string;
}

const CURSOR = /^([0-9]{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export const cursorParam = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor returned by a previous page')
  .transform((value, ctx): Position => {
    const match = CURSOR.exec(Buffer.from(value, 'base64url').toString('latin1'));
    if (match?.[1] === undefined || match[2] === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a cursor returned by a previous page' });
      return z.NEVER;
    }
    return { createdAt: new Date(Number(match[1])), id: match[2] };
  })
  .optional()
  .describe('Cursor from `nextCursor` of the previous page');

export function encodeCursor(position: Position): string {
  return Buffer.from(`${position.createdAt.getTime()}.${position.id}`, 'latin1').toString('base64url');
}

export function toPage<Row extends { created_at: Date; id: string }, Item>(
  rows: Row[],
  limit: number,
  serialize: (row: Row) => Item,
): { items: Item[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(serialize),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
  };
}

export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item).max(MAX_PAGE_SIZE), nextCursor: z.string().nullable() });
