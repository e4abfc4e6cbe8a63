import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import type { AuthUser, Role } from '../../principal.ts';

export class InvalidTokenError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(`invalid access token: ${reason}`);
    this.name = 'InvalidTokenError';
    this.reason = reason;
  }
}

// Pinned: one algorithm and one token type; `alg: none`, RS/HS confusion and ID tokens are refused (D5).
const ALGORITHM = 'HS256';
const ACCESS_JWT_TYP = 'at+jwt';
const CLOCK_TOLERANCE_SECONDS = 5;
const VERIFIED_CACHE_MAX = 10_000;

const claimsSchema = z.object({
  sub: z.uuid(),
  role: z.enum(['user', 'admin']),
  sid: z.uuid(),
  exp: z.number(),
});

export interface TokenService {
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  issueAccessToken(user: { id: string; role: Role }, sessionId: string): Promise<string>;
  verifyAccessToken(token: string): Promise<AuthUser>;
  /** A new opaque refresh token (256 random bits) and the SHA-256 hash that is all the database keeps (D6). */
  newRefreshToken(): { token: string; hash: string };
  hashRefreshToken(token: string): string;
}

export function createTokenService(config: Config): TokenService {
  const { secret, issuer, audience, accessTokenTtlSeconds, refreshTokenTtlSeconds } = config.jwt;
  const key = new TextEncoder().encode(secret);
  const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');
  // Only tokens we signed enter, oldest evicted first: the verified-token cache cannot grow unbounded (I4).
  const verified = new Map<string, { user: AuthUser; expiresAtMs: number }>();
  return {
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds,
    issueAccessToken(user, sessionId) {
      return new SignJWT({ role: user.role, sid: sessionId })
        .setProtectedHeader({ alg: ALGORITHM, typ: ACCESS_JWT_TYP })
        .setSubject(user.id)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${accessTokenTtlSeconds}s`)
        .setJti(randomUUID())
        .sign(key);
    },
    async verifyAccessToken(token) {
      const hit = verified.get(token);
      if (hit !== undefined) {
        if (hit.expiresAtMs > Date.now()) return { ...hit.user };
        verified.delete(token);
      }
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          typ: ACCESS_JWT_TYP,
          issuer,
          audience,
          requiredClaims: ['exp', 'iat', 'sub', 'jti'],
          // A token claiming a longer life than we ever issue is forged or stale config: refuse it.
          maxTokenAge: accessTokenTtlSeconds + CLOCK_TOLERANCE_SECONDS,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
        }));
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        throw new InvalidTokenError(code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid');
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) throw new InvalidTokenError('invalid claims');
      const user: AuthUser = { id: claims.data.sub, role: claims.data.role, sessionId: claims.data.sid };
      if (verified.size >= VERIFIED_CACHE_MAX) verified.delete(verified.keys().next().value as string);
      verified.set(token, { user, expiresAtMs: claims.data.exp * 1000 });
      return { ...user };
    },
    newRefreshToken() {
      const token = randomBytes(32).toString('base64url');
      return { token, hash: hashRefreshToken(token) };
    },
    hashRefreshToken,
  };
}
