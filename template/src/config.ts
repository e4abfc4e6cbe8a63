import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import pkg from '../package.json' with { type: 'json' };
import { usableCpus } from './cpus.ts';
import { RATE_LIMIT_STORE, STORE_ENV } from './rate-limit-choice.ts';

/** The JWT_SECRET value shipped in .env.example: accepted in development/test only (D7). */
export const EXAMPLE_JWT_SECRET = 'development-only-secret-do-not-use-in-production-0123456789'; // pragma: allowlist secret

/** Thrown when the environment is invalid; the message names variables, never their values (H1). */
export class ConfigError extends Error {
  readonly variables: readonly string[];

  constructor(problems: readonly { variable: string; message: string }[]) {
    super(`Invalid configuration: ${problems.map((p) => `${p.variable} ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
    this.variables = problems.map((p) => p.variable);
  }
}

const count = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,10}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const wholeNumber = (fallback: number, min: number, max: number) => count(min, max).default(fallback);

/** Hashes that may wait per hashing slot: at ~50 ms a hash, a queued login waits under a second (I4). */
const HASH_QUEUE_PER_SLOT = 16;

const flag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };
const byteSize = z
  .string()
  .regex(/^[0-9]{1,8}(b|kb|mb)?$/i, 'must be a size such as 100kb')
  .transform((v) => {
    const match = /^([0-9]+)([a-z]*)$/i.exec(v);
    const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase() || 'b'] ?? 1;
    return Number(match?.[1]) * unit;
  })
  .pipe(z.number().min(1024, 'must be at least 1kb').max(10 * 1024 * 1024, 'must be at most 10mb'));

const postgresUrl = z
  .string()
  .max(2048, 'is too long')
  .refine((v) => /^postgres(ql)?:\/\//.test(v) && URL.canParse(v), 'must be a postgres:// URL');

// Exact origins only: a wildcard or a pattern would let look-alike sites read responses (C1, C3).
const PLAIN_HOSTNAME = /^([a-z0-9.-]+|\[[0-9a-f:.]+\])$/;
// Plain http only for a local development origin: elsewhere a network attacker could read responses (C3).
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);
function originProblem(origin: string): string | undefined {
  const port = /:([0-9]+)$/.exec(origin)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return 'has a port outside 1–65535';
  if (!URL.canParse(origin)) return 'must be a comma-separated list of exact origins such as https://app.example.com (no *, no path)';
  const url = new URL(origin);
  if (url.protocol === 'http:' && !LOCAL_HOSTS.has(url.hostname)) return 'allows http:// only for localhost or 127.0.0.1; use https://';
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https://';
  if (port !== undefined && url.port === '') return 'must not spell out a default port (:443 for https, :80 for http): browsers send origins without it';
  if (url.origin !== origin || !PLAIN_HOSTNAME.test(url.hostname)) return 'must be a comma-separated list of exact origins such as https://app.example.com (no *, no path)';
  return undefined;
}
const corsOrigins = z
  .string()
  .max(4096, 'is too long')
  .transform((v, ctx) => {
    const origins = v
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '');
    const problem = origins.map(originProblem).find((p) => p !== undefined);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    return origins;
  });

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);
function isAddressOrCidr(value: string): boolean {
  if (PROXY_KEYWORDS.has(value)) return true;
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = /^[0-9]{1,3}$/.test(prefix) ? Number(prefix) : -1;
  return bits >= 0 && bits <= (family === 4 ? 32 : 128);
}

// Hop count or proxy list, never `true`: any client could forge X-Forwarded-For, its IP and rate-limit key (H2).
const trustProxy = z
  .string()
  .max(2048, 'is too long')
  .transform((v, ctx): false | number | string[] => {
    const value = v.trim();
    if (value === 'false' || value === '0') return false;
    if (/^[0-9]{1,2}$/.test(value)) return Number(value);
    const entries = value.split(',').map((e) => e.trim());
    if (entries.every(isAddressOrCidr)) return entries;
    ctx.addIssue({ code: 'custom', message: 'must be a hop count or a comma-separated list of proxy addresses/CIDRs, never true' });
    return z.NEVER;
  });

// Whole values or prefixes only: searching for words inside would refuse real random secrets (D7).
const PLACEHOLDER_VALUES = new Set(['changeme', 'secret', 'xxx', 'xxxx', 'todo', 'password']);
const PLACEHOLDER_PREFIX = /^(change.?me|replace.?me|your.?secret|your.?jwt.?secret|secret[-_]|password|placeholder|example|insecure|development-only)/i;
function looksLikePlaceholder(secret: string): boolean {
  return (
    secret === EXAMPLE_JWT_SECRET ||
    PLACEHOLDER_VALUES.has(secret.toLowerCase()) ||
    PLACEHOLDER_PREFIX.test(secret) ||
    new Set(secret).size < 12
  );
}

/** Fewer base64 characters cannot hold 32 random bytes: a shorter key could be brute-forced offline (D7). */
export const JWT_SECRET_MIN_LENGTH = 43;

function redisUrlOf(env: object): string | undefined {
  return 'REDIS_URL' in env && typeof env.REDIS_URL === 'string' ? env.REDIS_URL : undefined;
}

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['production', 'development', 'test'], { error: 'must be production, development or test' }).default('production'),
    HOST: z.string().max(255, 'is too long').default('127.0.0.1'),
    PORT: wholeNumber(3000, 0, 65535),
    DATABASE_URL: postgresUrl.optional(),
    PGLITE_DIR: z.string().max(1024, 'is too long').optional(),
    JWT_SECRET: z
      .string()
      .refine((v) => v.length >= JWT_SECRET_MIN_LENGTH, `must be at least ${JWT_SECRET_MIN_LENGTH} characters of random data (\`openssl rand -base64 48\`)`)
      .optional(),
    JWT_ISSUER: z.string().max(256, 'is too long').default(pkg.name),
    JWT_AUDIENCE: z.string().max(256, 'is too long').default(pkg.name),
    ACCESS_TOKEN_TTL_SECONDS: wholeNumber(900, 60, 3600),
    REFRESH_TOKEN_TTL_SECONDS: wholeNumber(14 * 24 * 3600, 300, 90 * 24 * 3600),
    // How stale another instance's view of a revoked session may be; 0 asks the database every request (D6).
    SESSION_CACHE_MS: wholeNumber(1000, 0, 5000),
    CORS_ORIGINS: corsOrigins.default([]),
    CORS_CREDENTIALS: flag.default(false),
    TRUST_PROXY: trustProxy.default(false),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be a pino level (fatal … trace, silent)' })
      .default('info'),
    BODY_LIMIT: byteSize.default(100 * 1024),
    ...STORE_ENV,
    RATE_LIMIT_GLOBAL_MAX: wholeNumber(300, 1, 1_000_000),
    RATE_LIMIT_GLOBAL_WINDOW_SECONDS: wholeNumber(60, 1, 86_400),
    RATE_LIMIT_AUTH_MAX: wholeNumber(10, 1, 1_000_000),
    RATE_LIMIT_AUTH_WINDOW_SECONDS: wholeNumber(60, 1, 86_400),
    LOGIN_FAILURES_MAX: wholeNumber(10, 1, 1000),
    LOGIN_FAILURES_WINDOW_SECONDS: wholeNumber(900, 1, 86_400),
    PASSWORD_MIN_LENGTH: wholeNumber(15, 8, 64),
    // zxcvbn score 3 or 4 only: 2 and below accept passwords an offline attacker guesses in hours (D2).
    PASSWORD_MIN_SCORE: z.enum(['3', '4'], { error: 'must be 3 or 4' }).default('3').transform(Number),
    // One of the CPUs this process may use (cgroup quota, affinity) stays free, and argon2 never fills
    // libuv's threadpool, which DNS, fs and zlib share (D1, I4).
    HASH_CONCURRENCY: wholeNumber(Math.min(Math.max(1, Math.floor(usableCpus()) - 1), 3), 1, 64),
    // Read by Node itself at startup; here only so that HASH_CONCURRENCY can be checked against it.
    UV_THREADPOOL_SIZE: wholeNumber(4, 1, 1024),
    HASH_QUEUE_MAX: count(0, 10_000).optional(),
    OPENAPI_ENABLED: flag.optional(),
    HEADERS_TIMEOUT_SECONDS: wholeNumber(10, 1, 120),
    REQUEST_TIMEOUT_SECONDS: wholeNumber(30, 1, 600),
    KEEP_ALIVE_TIMEOUT_SECONDS: wholeNumber(5, 1, 600),
    SHUTDOWN_DELAY_SECONDS: wholeNumber(2, 0, 9),
    SHUTDOWN_GRACE_SECONDS: wholeNumber(10, 1, 10),
  })
  .superRefine((env, ctx) => {
    const problem = (variable: string, message: string) => {
      ctx.addIssue({ code: 'custom', path: [variable], message });
    };
    const relaxed = env.NODE_ENV === 'development' || env.NODE_ENV === 'test';
    if (env.NODE_ENV === 'production' && env.DATABASE_URL === undefined) {
      problem('DATABASE_URL', 'is required when NODE_ENV=production');
    }
    // A short, missing or published signing key lets anyone mint access tokens (D7).
    if (env.JWT_SECRET === undefined) {
      if (!relaxed) problem('JWT_SECRET', 'is required outside development/test');
    } else if (!relaxed && looksLikePlaceholder(env.JWT_SECRET)) {
      problem('JWT_SECRET', 'looks like a placeholder; generate one with `openssl rand -base64 48`');
    }
    // Credentialed CORS with no allowlist in production is a misconfiguration, refuse to start (C3).
    if (env.NODE_ENV === 'production' && env.CORS_CREDENTIALS && env.CORS_ORIGINS.length === 0) {
      problem('CORS_ORIGINS', 'must list exact origins when CORS_CREDENTIALS=true in production');
    }
    // Replicas must share their counters, or every limit is multiplied by the replica count (H5).
    if (RATE_LIMIT_STORE === 'redis' && redisUrlOf(env) === undefined && !relaxed) {
      problem('REDIS_URL', 'is required outside development/test: this service keeps rate-limit counters in Redis');
    }
    if (env.HASH_CONCURRENCY >= env.UV_THREADPOOL_SIZE) {
      problem('HASH_CONCURRENCY', 'must be lower than UV_THREADPOOL_SIZE (default 4): hashing must leave libuv threads for DNS and files');
    }
    if (env.SHUTDOWN_DELAY_SECONDS >= env.SHUTDOWN_GRACE_SECONDS) {
      problem('SHUTDOWN_DELAY_SECONDS', 'must be lower than SHUTDOWN_GRACE_SECONDS');
    }
    if (env.HEADERS_TIMEOUT_SECONDS >= env.REQUEST_TIMEOUT_SECONDS) {
      problem('HEADERS_TIMEOUT_SECONDS', 'must be lower than REQUEST_TIMEOUT_SECONDS');
    }
  })
  .transform((env) => ({
    env: env.NODE_ENV,
    isProduction: env.NODE_ENV === 'production',
    host: env.HOST,
    port: env.PORT,
    databaseUrl: env.DATABASE_URL,
    pgliteDir: env.PGLITE_DIR,
    jwt: {
      // development/test without a secret get a random one per process: tokens die with the process.
      secret: env.JWT_SECRET ?? randomBytes(48).toString('base64url'),
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
      sessionCacheMs: env.SESSION_CACHE_MS,
    },
    cors: { origins: env.CORS_ORIGINS, credentials: env.CORS_CREDENTIALS },
    trustProxy: env.TRUST_PROXY,
    logLevel: env.LOG_LEVEL,
    bodyLimitBytes: env.BODY_LIMIT,
    rateLimit: {
      store: RATE_LIMIT_STORE,
      redisUrl: redisUrlOf(env),
      globalMax: env.RATE_LIMIT_GLOBAL_MAX,
      globalWindowSeconds: env.RATE_LIMIT_GLOBAL_WINDOW_SECONDS,
      authMax: env.RATE_LIMIT_AUTH_MAX,
      authWindowSeconds: env.RATE_LIMIT_AUTH_WINDOW_SECONDS,
      loginFailuresMax: env.LOGIN_FAILURES_MAX,
      loginFailuresWindowSeconds: env.LOGIN_FAILURES_WINDOW_SECONDS,
    },
    passwords: {
      minLength: env.PASSWORD_MIN_LENGTH,
      minScore: env.PASSWORD_MIN_SCORE,
      hashConcurrency: env.HASH_CONCURRENCY,
      hashQueueMax: env.HASH_QUEUE_MAX ?? HASH_QUEUE_PER_SLOT * env.HASH_CONCURRENCY,
    },
    openapiEnabled: env.OPENAPI_ENABLED ?? env.NODE_ENV !== 'production',
    server: {
      headersTimeoutMs: env.HEADERS_TIMEOUT_SECONDS * 1000,
      requestTimeoutMs: env.REQUEST_TIMEOUT_SECONDS * 1000,
      keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
      shutdownDelayMs: env.SHUTDOWN_DELAY_SECONDS * 1000,
      shutdownGraceMs: env.SHUTDOWN_GRACE_SECONDS * 1000,
    },
  }));

export type Config = Readonly<z.output<typeof configSchema>>;

const KNOWN_VARIABLES = Object.keys(configSchema.in.shape);

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const name of KNOWN_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') input[name] = value;
  }
  const result = configSchema.safeParse(input);
  if (!result.success) {
    // Only the variable name and our own message: zod's input is never echoed (H1).
    throw new ConfigError(
      result.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? 'environment'), message: issue.message })),
    );
  }
  return deepFreeze(result.data);
}
