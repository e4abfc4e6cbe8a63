import type { Database } from '../../db/database.ts';
import { HttpError } from '../../http/errors.ts';
import { toPage, type Position } from '../../http/pagination.ts';
import { deleteNote, findNote, insertNote, listNotes, updateNote } from './repository.ts';
import { toNoteJson, type NoteJson } from './schemas.ts';

// Missing and not-yours are the same answer: ids of other users' notes cannot be probed (E2).
const notFound = () => new HttpError(404, 'Note not found');

export function createNoteService(db: Database) {
  return {
    async list(ownerId: string, limit: number, after: Position | undefined) {
      return toPage(await listNotes(db, ownerId, limit, after), limit, toNoteJson);
    },
    async create(ownerId: string, note: { title: string; body: string }): Promise<NoteJson> {
      return toNoteJson(await insertNote(db, ownerId, note));
    },
    async get(ownerId: string, id: string): Promise<NoteJson> {
      const row = await findNote(db, ownerId, id);
      if (row === undefined) throw notFound();
      return toNoteJson(row);
    },
    async update(ownerId: string, id: string, patch: { title?: string | undefined; body?: string | undefined }): Promise<NoteJson> {
      const row = await updateNote(db, ownerId, id, patch);
      if (row === undefined) throw notFound();
      return toNoteJson(row);
    },
    async remove(ownerId: string, id: string): Promise<void> {
      if (!(await deleteNote(db, ownerId, id))) throw notFound();
    },
  };
}

export type NoteService = ReturnType<typeof createNoteService>;
