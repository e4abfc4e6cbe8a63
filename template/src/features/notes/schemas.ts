import { z } from 'zod';
import { cursorParam, limitParam, pageSchema } from '../../http/pagination.ts';
import { text } from '../../http/text.ts';
import type { NoteRow } from './repository.ts';

const title = text({ min: 1, max: 200, singleLine: true, trim: true });
const body = text({ max: 10_000 });

export const noteParams = z.strictObject({ id: z.uuid({ error: 'must be a UUID' }) });

export const listNotesQuery = z.strictObject({ limit: limitParam(20), cursor: cursorParam });

export const createNoteBody = z.strictObject({ title, body });

export const updateNoteBody = z
  .strictObject({ title: title.optional(), body: body.optional() })
  .refine((patch) => patch.title !== undefined || patch.body !== undefined, 'must change title or body')
  .meta({ minProperties: 1 });

/** The only shape in which a note leaves the API (B4): the owner id stays inside. */
export const noteSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  body: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const notePageSchema = pageSchema(noteSchema);

export type NoteJson = z.output<typeof noteSchema>;

export function toNoteJson(row: NoteRow): NoteJson {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
