import { z } from 'zod';

/** Page size for list endpoints: 1–100 (A8: no unbounded lists). */
export const MAX_PAGE_SIZE = 100;

/** Query values arrive as strings: only plain digits become a number, so the document can say `integer` (H3). */
export const limitParam = (fallback: number) =>
  z
    .preprocess(
      (value) => (typeof value === 'string' && /^[0-9]{1,3}$/.test(value) ? Number(value) : value),
      z
        .number({ error: 'must be a whole number' })
        .int('must be a whole number')
        .min(1, 'must be at least 1')
        .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`),
    )
    .default(fallback)
    .describe(`Page size, 1–${MAX_PAGE_SIZE} (default ${fallback})`);

export interface Position {
  createdAt: Date;
  id: string;
}

// `<milliseconds>.<uuid>`: a pattern the document states, so any cursor it allows is one we can read (H3).
const CURSOR = /^([0-9]{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export const cursorParam = z
  .string()
  .regex(CURSOR, 'must be a cursor returned by a previous page')
  .transform((value): Position => {
    const [millis = '', id = ''] = value.split('.');
    return { createdAt: new Date(Number(millis)), id };
  })
  .optional()
  .describe('Cursor from `nextCursor` of the previous page');

export function encodeCursor(position: Position): string {
  return `${position.createdAt.getTime()}.${position.id}`;
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
