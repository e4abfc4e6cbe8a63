import pool from '../db.cjs';

export async function listNotes(ownerId: string, limit: number): Promise<unknown[]> {
  const { rows } = await pool.query(
    `SELECT id, title, body FROM notes
     WHERE owner_id = $1 ORDER BY created_at DESC LIMIT $2`,
    [ownerId, limit],
  );
  return rows;
}

export async function createNote(ownerId: string, title: string, body: string): Promise<string> {
  const { rows } = await pool.query('INSERT INTO notes (owner_id, title, body) VALUES ($1, $2, $3) RETURNING id', [
    ownerId,
    title,
    body,
  ]);
  return rows[0].id;
}
