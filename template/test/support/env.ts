// The environment of this test run: where the project is, which services were given (PostgreSQL, Redis),
// and the configuration every in-process app and spawned server starts from.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { RATE_LIMIT_STORE } from '../../src/rate-limit-choice.ts';

export const PROJECT_DIR = resolve(import.meta.dirname, '../..');
export const USING_POSTGRES = nonEmpty(process.env.DATABASE_URL) !== undefined;
const REDIS_URL = nonEmpty(process.env.REDIS_URL);
/** This project keeps rate-limit counters in Redis, and a Redis server was given to the tests. */
export const USING_REDIS = RATE_LIMIT_STORE === 'redis' && REDIS_URL !== undefined;
/**
 * Set (to the reason) when tests that need a listening server process cannot run: the Redis variant's
 * server needs a real Redis (REDIS_URL). In-process tests then run on in-memory counters.
 */
export const NEEDS_REDIS: string | false = RATE_LIMIT_STORE === 'redis' && REDIS_URL === undefined ? 'this project uses Redis: set REDIS_URL' : false;
// Satisfies the Redis variant's configuration when no Redis was given; nothing ever connects to it.
const UNUSED_REDIS_URL = 'redis://127.0.0.1:9/0';

/**
 * A strong, random signing secret for this test process; tests forge tokens with it (D5). Hex, because
 * random base64 could, once in a few thousand runs, spell a word the placeholder check refuses ("xxx").
 */
export const JWT_SECRET = randomBytes(48).toString('hex');
export const JWT_ISSUER = 'https://api.test.example';
export const JWT_AUDIENCE = 'test-clients';
export const ALLOWED_ORIGIN = 'https://app.example.com';

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** The environment every in-process app starts from; limits are high so that only tests that want a 429 get one. */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    JWT_SECRET,
    JWT_ISSUER,
    JWT_AUDIENCE,
    CORS_ORIGINS: ALLOWED_ORIGIN,
    LOG_LEVEL: 'info',
    RATE_LIMIT_GLOBAL_MAX: '1000000',
    RATE_LIMIT_AUTH_MAX: '1000000',
    LOGIN_FAILURES_MAX: '1000',
    REDIS_URL: REDIS_URL ?? (RATE_LIMIT_STORE === 'redis' ? UNUSED_REDIS_URL : undefined),
    ...overrides,
  };
}

/** `vars` plus what this project variant always needs (REDIS_URL for the Redis variant), for loadConfig tests. */
export function configEnv(vars: Record<string, string | undefined>): Record<string, string | undefined> {
  return { REDIS_URL: testEnv().REDIS_URL, ...vars };
}
