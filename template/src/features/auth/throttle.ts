import { createHash } from 'node:crypto';
import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import type { Config } from '../../config.ts';
import { limitExceeded, limiterLogger, type RateLimitStores } from '../../http/rate-limit.ts';
import type { Logger } from '../../logger.ts';

/** Account keys are hashed so the rate-limit store never holds e-mail addresses. */
export function accountKey(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Per account, whatever the IP: guesses spread over many addresses still hit the lockout (D4). */
export function createAccountThrottle(config: Config, stores: RateLimitStores, logger: Logger): RateLimitRequestHandler {
  return rateLimit({
    windowMs: config.rateLimit.loginFailuresWindowSeconds * 1000,
    limit: config.rateLimit.loginFailuresMax,
    // Remaining attempts are not advertised: they would tell an attacker how many guesses are left.
    standardHeaders: false,
    legacyHeaders: false,
    // Only wrong credentials count: shed (503) or malformed requests must not lock the victim's account.
    requestWasSuccessful: (_req, res) => res.locals.credentialFailure !== true,
    skipSuccessfulRequests: true,
    passOnStoreError: false,
    keyGenerator: (_req, res) => res.locals.throttleKey ?? 'none',
    store: stores.create('account'),
    handler: limitExceeded('account'),
    logger: limiterLogger(logger),
  });
}
