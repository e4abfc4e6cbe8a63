import pool from '../db.cjs';

export async function listNotes(ownerId: string, limit: number): Promise<unknown[]> {
  const { rows } = await pool.query(
    `SELECT id, title, body FROM notes WHERE owner_id = '${ownerId}' ORDER BY created_at DESC LIMIT ${limit}`,
  );
  return rows;
}

export async function createNote(ownerId: string, title: string, body: string): Promise<string> {
  const sql = "INSERT INTO notes (owner_id, title, body) VALUES ('" + ownerId + "', '" + title + "', '" + body + "') RETURNING id";
  const { rows } = await pool.query(sql);
  return rows[0].id;
}
