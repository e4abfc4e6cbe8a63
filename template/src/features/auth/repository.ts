import type { Database } from '../../db/database.ts';
import type { Role } from './tokens.ts';

export interface RefreshTokenRow {
  id: string;
  user_id: string;
  family_id: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

// Refresh tokens are looked up and stored by SHA-256 hash only; a database leak yields no usable token (D6).

export async function insertRefreshToken(
  db: Database,
  token: { userId: string; familyId: string; hash: string; expiresAt: Date },
): Promise<void> {
  await db.query('INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)', [
    token.userId,
    token.familyId,
    token.hash,
    token.expiresAt,
  ]);
}

/** Locks the row: two concurrent uses of one token are serialised, so the second is seen as reuse. */
export async function lockRefreshToken(db: Database, hash: string): Promise<RefreshTokenRow | undefined> {
  const { rows } = await db.query<RefreshTokenRow>(
    `SELECT id, user_id, family_id, expires_at, used_at, revoked_at
     FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
    [hash],
  );
  return rows[0];
}

export async function markRefreshTokenUsed(db: Database, id: string): Promise<void> {
  await db.query('UPDATE refresh_tokens SET used_at = now() WHERE id = $1', [id]);
}

export async function revokeFamily(db: Database, familyId: string): Promise<void> {
  await db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [familyId]);
}

/** Logout: revokes the family of `hash`, but only when it belongs to `userId`. */
export async function revokeFamilyOfToken(db: Database, userId: string, hash: string): Promise<void> {
  await db.query(
    `UPDATE refresh_tokens SET revoked_at = now()
     WHERE revoked_at IS NULL
       AND family_id IN (SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2)`,
    [hash, userId],
  );
}

/** Password change: every session of the user except the one making the change. */
export async function revokeOtherFamilies(db: Database, userId: string, keepFamilyId: string): Promise<void> {
  await db.query(
    'UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND family_id <> $2 AND revoked_at IS NULL',
    [userId, keepFamilyId],
  );
}

/**
 * The caller's current role, only while its session (refresh-token family) is alive: one indexed query
 * per authenticated request, so logout, reuse detection and password changes end access tokens at once (D6).
 */
export async function findSessionRole(db: Database, userId: string, familyId: string): Promise<Role | undefined> {
  const { rows } = await db.query<{ role: Role }>(
    `SELECT u.role FROM users u
     WHERE u.id = $1 AND EXISTS (
       SELECT 1 FROM refresh_tokens t
       WHERE t.family_id = $2 AND t.user_id = u.id AND t.revoked_at IS NULL AND t.expires_at > now())`,
    [userId, familyId],
  );
  return rows[0]?.role;
}
