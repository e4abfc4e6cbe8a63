import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.ts';
import { isUniqueViolation, type Database } from '../../db/database.ts';
import { HttpError } from '../../http/errors.ts';
import type { AuthUser } from '../../principal.ts';
import { findUserByEmail, findUserById, insertUser, updatePasswordHash, type UserRow } from '../users/repository.ts';
import { toUserJson, type UserJson } from '../users/schemas.ts';
import { createPasswordPolicy, type PasswordOwner, type PasswordPolicy } from './password-policy.ts';
import type { PasswordHasher } from './passwords.ts';
import {
  insertRefreshToken,
  lockRefreshToken,
  markRefreshTokenUsed,
  revokeFamily,
  revokeFamilyOfToken,
  revokeOtherFamilies,
} from './repository.ts';
import { BEARER_SCHEME, type TokenPair } from './schemas.ts';
import type { SessionCache } from './session-cache.ts';
import type { TokenService } from './tokens.ts';

export type RefreshOutcome = { kind: 'ok'; pair: TokenPair } | { kind: 'reused'; userId: string } | { kind: 'invalid' };

export interface AuthService {
  register(input: { email: string; password: string; displayName: string }): Promise<UserJson>;
  /** Undefined for an unknown e-mail and a wrong password alike (D3). */
  login(email: string, password: string): Promise<{ pair: TokenPair; userId: string } | undefined>;
  refresh(refreshToken: string): Promise<RefreshOutcome>;
  logout(user: AuthUser, refreshToken: string): Promise<void>;
  changePassword(user: AuthUser, currentPassword: string, newPassword: string): Promise<'changed' | 'wrong-password'>;
}

async function rejectWeakPassword(policy: PasswordPolicy, field: string, password: string, owner: PasswordOwner): Promise<void> {
  const rejection = await policy.check(password, owner);
  if (rejection !== undefined) {
    throw new HttpError(400, 'The password does not meet the requirements', {
      errors: [{ location: 'body', path: field, message: rejection.message, code: rejection.code }],
    });
  }
}

export function createAuthService(deps: {
  config: Config;
  db: Database;
  hasher: PasswordHasher;
  tokens: TokenService;
  sessions: SessionCache;
}): AuthService {
  const { config, db, hasher, tokens, sessions } = deps;
  const policy = createPasswordPolicy(config.passwords);

  // A rotated token inherits its family's deadline: a stolen, kept-fresh token must not live for ever (D6).
  async function startSession(
    target: Database,
    user: UserRow,
    familyId: string = randomUUID(),
    expiresAt = new Date(Date.now() + tokens.refreshTokenTtlSeconds * 1000),
  ): Promise<TokenPair> {
    const refresh = tokens.newRefreshToken();
    await insertRefreshToken(target, { userId: user.id, familyId, hash: refresh.hash, expiresAt });
    return {
      accessToken: await tokens.issueAccessToken(user, familyId),
      refreshToken: refresh.token,
      tokenType: BEARER_SCHEME,
      expiresIn: tokens.accessTokenTtlSeconds,
    };
  }

  return {
    async register({ email, password, displayName }) {
      // A flood is refused before it costs a strength estimate as well as a hash.
      hasher.assertCapacity();
      await rejectWeakPassword(policy, 'password', password, { email, displayName });
      // Hash first, then insert: a taken address costs the same time as a new one.
      const passwordHash = await hasher.hash(password);
      try {
        return toUserJson(await insertUser(db, { email, displayName, passwordHash }));
      } catch (err) {
        if (isUniqueViolation(err)) throw new HttpError(409, 'This e-mail address cannot be registered');
        throw err;
      }
    },

    async login(email, password) {
      // A flood is refused before it costs a database query as well as a hash.
      hasher.assertCapacity();
      const user = await findUserByEmail(db, email);
      if (user === undefined) {
        // Same work as a real check, so response time does not reveal which addresses exist (D3).
        await hasher.verifyDummy(password);
        return undefined;
      }
      if (!(await hasher.verify(user.password_hash, password))) return undefined;
      return { pair: await startSession(db, user), userId: user.id };
    },

    async refresh(refreshToken) {
      const outcome = await db.transaction(async (tx): Promise<RefreshOutcome> => {
        const row = await lockRefreshToken(tx, tokens.hashRefreshToken(refreshToken));
        if (row === undefined || row.revoked_at !== null || row.expires_at.getTime() <= Date.now()) return { kind: 'invalid' };
        if (row.used_at !== null) {
          // A rotated token came back: someone holds a stolen copy. Kill the whole family (D6).
          await revokeFamily(tx, row.family_id);
          return { kind: 'reused', userId: row.user_id };
        }
        const user = await findUserById(tx, row.user_id);
        if (user === undefined) return { kind: 'invalid' };
        await markRefreshTokenUsed(tx, row.id);
        return { kind: 'ok', pair: await startSession(tx, user, row.family_id, row.expires_at) };
      });
      if (outcome.kind === 'reused') sessions.revoked();
      return outcome;
    },

    async logout(user, refreshToken) {
      await revokeFamilyOfToken(db, user.id, tokens.hashRefreshToken(refreshToken));
      sessions.revoked();
    },

    async changePassword(auth, currentPassword, newPassword) {
      hasher.assertCapacity();
      const user = await findUserById(db, auth.id);
      if (user === undefined) throw new HttpError(401, 'A valid access token is required');
      await rejectWeakPassword(policy, 'newPassword', newPassword, { email: user.email, displayName: user.display_name });
      if (!(await hasher.verify(user.password_hash, currentPassword))) return 'wrong-password';
      const passwordHash = await hasher.hash(newPassword);
      await db.transaction(async (tx) => {
        await updatePasswordHash(tx, user.id, passwordHash);
        // Other sessions may belong to whoever knew the old password: end them (D6).
        await revokeOtherFamilies(tx, user.id, auth.sessionId);
      });
      sessions.revoked();
      return 'changed';
    },
  };
}
