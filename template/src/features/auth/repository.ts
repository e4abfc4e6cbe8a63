import type { Database } from '../../db/database.ts';
import type { Role } from '../../principal.ts';

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

/** Only the caller's own token family is revoked: nobody can log another user out. */
export async function revokeFamilyOfToken(db: Database, userId: string, hash: string): Promise<void> {
  await db.query(
    `UPDATE refresh_tokens SET revoked_at = now()
     WHERE revoked_at IS NULL
       AND family_id IN (SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2)`,
    [hash, userId],
  );
}

export async function revokeOtherFamilies(db: Database, userId: string, keepFamilyId: string): Promise<void> {
  await db.query(
    'UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND family_id <> $2 AND revoked_at IS NULL',
    [userId, keepFamilyId],
  );
}

/** A role only while the session lives: logout, reuse detection and password change end access tokens (D6). */
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
