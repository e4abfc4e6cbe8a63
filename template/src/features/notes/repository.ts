import type { Database } from '../../db/database.ts';
import type { Position } from '../../http/pagination.ts';

export interface NoteRow {
  id: string;
  title: string;
  body: string;
  created_at: Date;
  updated_at: Date;
}

// Scoped by owner_id in SQL, values always bound: other users' notes are not found (E2), no injection (F1).

export async function listNotes(db: Database, ownerId: string, limit: number, after: Position | undefined): Promise<NoteRow[]> {
  const { rows } = await db.query<NoteRow>(
    `SELECT id, title, body, created_at, updated_at FROM notes
     WHERE owner_id = $1 AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $2`,
    [ownerId, limit + 1, after?.createdAt ?? null, after?.id ?? null],
  );
  return rows;
}

export async function insertNote(db: Database, ownerId: string, note: { title: string; body: string }): Promise<NoteRow> {
  const { rows } = await db.query<NoteRow>(
    'INSERT INTO notes (owner_id, title, body) VALUES ($1, $2, $3) RETURNING id, title, body, created_at, updated_at',
    [ownerId, note.title, note.body],
  );
  const row = rows[0];
  if (row === undefined) throw new Error('INSERT returned no row');
  return row;
}

export async function findNote(db: Database, ownerId: string, id: string): Promise<NoteRow | undefined> {
  const { rows } = await db.query<NoteRow>(
    'SELECT id, title, body, created_at, updated_at FROM notes WHERE id = $1 AND owner_id = $2',
    [id, ownerId],
  );
  return rows[0];
}

export async function updateNote(
  db: Database,
  ownerId: string,
  id: string,
  patch: { title?: string | undefined; body?: string | undefined },
): Promise<NoteRow | undefined> {
  const { rows } = await db.query<NoteRow>(
    `UPDATE notes SET title = COALESCE($3, title), body = COALESCE($4, body), updated_at = now()
     WHERE id = $1 AND owner_id = $2
     RETURNING id, title, body, created_at, updated_at`,
    [id, ownerId, patch.title ?? null, patch.body ?? null],
  );
  return rows[0];
}

export async function deleteNote(db: Database, ownerId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM notes WHERE id = $1 AND owner_id = $2', [id, ownerId]);
  return rowCount > 0;
}
