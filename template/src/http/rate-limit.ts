import { MemoryStore, rateLimit, type Options, type RateLimitRequestHandler, type Store } from 'express-rate-limit';
import type { RequestHandler } from 'express';
import type { Config } from '../config.ts';
import { securityEvent, type Logger } from '../logger.ts';
import { HttpError, sendProblem } from './errors.ts';

export interface RateLimitStores {
  /** A fresh store for one limiter (a store instance must never be shared between limiters). */
  create(name: string): Store;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Counters in this process only: correct for one instance (H5); rate-limit-store.ts picks the real store. */
export function memoryStores(): RateLimitStores {
  const stores: MemoryStore[] = [];
  return {
    create() {
      const store = new MemoryStore();
      stores.push(store);
      return store;
    },
    ping: () => Promise.resolve(),
    close() {
      for (const store of stores) store.shutdown();
      return Promise.resolve();
    },
  };
}

/** 429 problem+json with Retry-After, and a `rate_limit.exceeded` security event (D4, G4, I4). */
export function limitExceeded(limiter: string): Options['handler'] {
  return (req, res) => {
    const { resetTime } = (req as { rateLimit?: { resetTime?: Date } }).rateLimit ?? {};
    const retryAfter = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now()) - Date.now()) / 1000));
    securityEvent(req.log, 'rate_limit.exceeded', { limiter, route: res.locals.route ?? null });
    sendProblem(req, res, new HttpError(429, 'Too many requests: retry later', { headers: { 'Retry-After': String(retryAfter) } }));
  };
}

/** At most one line per 10 s: a store outage must not flood the logs. */
export function limiterLogger(logger: Logger): Options['logger'] {
  let last = 0;
  const quiet = () => {
    const now = Date.now();
    if (now - last < 10_000) return true;
    last = now;
    return false;
  };
  return {
    warn: (err: unknown, message?: string) => {
      if (!quiet()) logger.warn({ err }, message ?? 'rate limiter warning');
    },
    error: (err: unknown, message?: string) => {
      if (!quiet()) logger.error({ err }, message ?? 'rate limiter error');
    },
  };
}

function perClient(
  name: string,
  limits: { max: number; windowSeconds: number; failOpen: boolean },
  stores: RateLimitStores,
  logger: Logger,
): RateLimitRequestHandler {
  return rateLimit({
    // Keyed by req.ip, which only trusts X-Forwarded-For as far as TRUST_PROXY says (H2).
    windowMs: limits.windowSeconds * 1000,
    limit: limits.max,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    passOnStoreError: limits.failOpen,
    store: stores.create(name),
    handler: limitExceeded(name),
    logger: limiterLogger(logger),
  });
}

/** Probes behind a load balancer share one IP: rate-limiting them gets healthy pods restarted (I1). */
export const HEALTH_PATHS: readonly string[] = ['/healthz', '/readyz'];

/** A flood gets 429 + Retry-After, not a queue (I4); fails open so a store outage cannot take every route down. */
export function createGlobalLimiter(config: Config, stores: RateLimitStores, logger: Logger): RequestHandler {
  const { globalMax: max, globalWindowSeconds: windowSeconds } = config.rateLimit;
  const limiter = perClient('global', { max, windowSeconds, failOpen: true }, stores, logger);
  // Probes skip the limiter before it starts its per-request work.
  return (req, res, next) => {
    if (HEALTH_PATHS.includes(req.path)) next();
    else void limiter(req, res, next);
  };
}

/** Credential endpoints (register, login, refresh, password change), per client IP: stricter than global (D4). */
export function createAuthLimiter(config: Config, stores: RateLimitStores, logger: Logger): RateLimitRequestHandler {
  const { authMax: max, authWindowSeconds: windowSeconds } = config.rateLimit;
  // Brute-force limits fail closed: without their store, credential endpoints answer 503.
  return perClient('auth', { max, windowSeconds, failOpen: false }, stores, logger);
}
