import type { RequestHandler } from 'express';
import type { Database } from '../../db/database.ts';
import { HttpError } from '../../http/errors.ts';
import { securityEvent } from '../../logger.ts';
import { findSessionRole } from './repository.ts';
import type { SessionCache } from './session-cache.ts';
import { InvalidTokenError, type TokenService } from './tokens.ts';

// Only the Authorization header carries tokens: never the query string (logged, cached) nor cookies (D5).
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;
const MAX_HEADER_LENGTH = 4096;

function unauthorized(reason: string): HttpError {
  const challenge = reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"';
  return new HttpError(401, 'A valid access token is required', { headers: { 'WWW-Authenticate': challenge } });
}

/** Admin routes skip the session cache (D6) and ask the database: a demoted admin loses access at once (E3). */
export function createAuthenticate(
  tokens: TokenService,
  db: Database,
  sessions: SessionCache,
): (access: 'user' | 'admin') => RequestHandler {
  return (access) => async (req, res, next) => {
    const header = req.headers.authorization;
    const match = header !== undefined && header.length <= MAX_HEADER_LENGTH ? BEARER.exec(header) : null;
    if (match?.[1] === undefined) {
      const reason = header === undefined ? 'missing' : 'malformed';
      securityEvent(req.log, 'auth.unauthorized', { reason, route: res.locals.route ?? null });
      throw unauthorized(reason);
    }
    try {
      req.user = await tokens.verifyAccessToken(match[1]);
    } catch (err) {
      if (!(err instanceof InvalidTokenError)) throw err;
      securityEvent(req.log, 'auth.unauthorized', { reason: err.reason, route: res.locals.route ?? null });
      throw unauthorized(err.reason);
    }
    // A stolen access token must die with its session (logout, reuse detection, password change) (D6).
    const { id, sessionId } = req.user;
    let role = access === 'admin' ? undefined : sessions.get(sessionId);
    if (role === undefined) {
      const generation = sessions.generation();
      role = await findSessionRole(db, id, sessionId);
      if (role !== undefined) sessions.set(sessionId, role, generation);
    }
    if (role === undefined) {
      securityEvent(req.log, 'auth.unauthorized', { reason: 'session revoked', route: res.locals.route ?? null });
      throw unauthorized('revoked');
    }
    req.user.role = role;
    if (access === 'admin') {
      if (role !== 'admin') {
        securityEvent(req.log, 'auth.forbidden', { userId: req.user.id, route: res.locals.route ?? null });
        throw new HttpError(403, 'This action requires the admin role');
      }
    }
    next();
  };
}
