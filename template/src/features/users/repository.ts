import type { Database } from '../../db/database.ts';
import type { Position } from '../../http/pagination.ts';
import type { Role } from '../../principal.ts';

export interface UserRow {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  role: Role;
  created_at: Date;
}

// Explicit column lists, and every value bound as a parameter: no SQL is ever built from input (F1).

export async function findUserByEmail(db: Database, email: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(
    'SELECT id, email, display_name, password_hash, role, created_at FROM users WHERE email = $1',
    [email],
  );
  return rows[0];
}

export async function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(
    'SELECT id, email, display_name, password_hash, role, created_at FROM users WHERE id = $1',
    [id],
  );
  return rows[0];
}

export async function insertUser(
  db: Database,
  user: { email: string; displayName: string; passwordHash: string },
): Promise<UserRow> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (email, display_name, password_hash) VALUES ($1, $2, $3)
     RETURNING id, email, display_name, password_hash, role, created_at`,
    [user.email, user.displayName, user.passwordHash],
  );
  const row = rows[0];
  if (row === undefined) throw new Error('INSERT returned no row');
  return row;
}

export async function updatePasswordHash(db: Database, id: string, passwordHash: string): Promise<void> {
  await db.query('UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1', [id, passwordHash]);
}

export async function setRoleByEmail(db: Database, email: string, role: Role): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(
    `UPDATE users SET role = $2, updated_at = now() WHERE email = $1
     RETURNING id, email, display_name, password_hash, role, created_at`,
    [email, role],
  );
  return rows[0];
}

export async function listUsers(db: Database, limit: number, after: Position | undefined): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(
    `SELECT id, email, display_name, password_hash, role, created_at FROM users
     WHERE $2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid)
     ORDER BY created_at DESC, id DESC LIMIT $1`,
    [limit + 1, after?.createdAt ?? null, after?.id ?? null],
  );
  return rows;
}
