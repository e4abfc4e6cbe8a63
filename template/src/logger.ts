import { pino, type DestinationStream, type Logger } from 'pino';
import pkg from '../package.json' with { type: 'json' };
import type { Config } from './config.ts';

export type { Logger } from 'pino';

// Credential-like fields are redacted at any depth: secrets in headers, bodies or errors never reach logs (G2).
const SECRET_KEY = /authorization|cookie|passw|secret|token|api[-_]?key|credential|session/i;
const MAX_DEPTH = 8;

// Verdicts per key name, bounded: keys from clients' objects cannot grow it without limit.
const secretKeys = new Map<string, boolean>();
function isSecretKey(key: string): boolean {
  let verdict = secretKeys.get(key);
  if (verdict === undefined) {
    verdict = SECRET_KEY.test(key);
    if (secretKeys.size < 1024) secretKeys.set(key, verdict);
  }
  return verdict;
}

function scrub(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Error || value instanceof Date) return value;
  if (depth >= MAX_DEPTH) return '[Truncated]';
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  // A plain object with nothing to hide is logged as it is; anything else becomes a plain copy (no toJSON).
  const plain = Object.getPrototypeOf(value) === Object.prototype;
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source);
  let out: Record<string, unknown> | undefined = plain ? undefined : {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = source[key];
    const clean = isSecretKey(key) ? '[Redacted]' : scrub(item, depth + 1);
    if (out === undefined && clean !== item) {
      out = {};
      for (const earlier of keys.slice(0, i)) out[earlier] = source[earlier];
    }
    if (out !== undefined) out[key] = clean;
  }
  return out ?? value;
}

// Errors keep type, message, code and stack only: attached configs or requests may carry secrets (G2).
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return scrub(err, 0);
  const { code } = err as { code?: unknown };
  return {
    type: err.name,
    message: err.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: err.stack,
  };
}

// One ISO timestamp string per millisecond, not per line: under load many lines share it.
let lastMs = 0;
let lastTime = '';
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

interface LogDestination extends DestinationStream {
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
}

let stdout: LogDestination | undefined;

/**
 * Standard output, written once per event-loop turn instead of once per line: a write per request
 * cost more than the request. Writes are synchronous, so nothing is ever in flight: what was logged
 * before a clean exit, a SIGTERM shutdown or a crash is on stdout before the process ends (G1, I3).
 */
function stdoutDestination(): LogDestination {
  if (stdout !== undefined) return stdout;
  const stream = pino.destination({ dest: 1, sync: true, minLength: 8192 });
  let pending = false;
  let scheduled = false;
  const flushSync = () => {
    scheduled = false;
    if (!pending) return;
    pending = false;
    stream.flush();
  };
  // process.exit() skips the pending turn: what is buffered is written on the way out.
  process.on('exit', flushSync);
  stdout = {
    write(line: string) {
      stream.write(line);
      pending = true;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushSync);
      }
    },
    flush(cb) {
      flushSync();
      cb?.();
    },
    flushSync,
  };
  return stdout;
}

export function createLogger(config: Config, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: pkg.name },
      timestamp: isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrub(object, 0) as Record<string, unknown>,
      },
      serializers: { err: serializeError, error: serializeError },
    },
    destination ?? stdoutDestination(),
  );
}

const INFO_EVENTS = new Set(['auth.login.success', 'auth.register', 'auth.logout', 'auth.password.changed', 'auth.refresh']);

/** Security events (G4) go through the same redaction as every other line. */
export function securityEvent(log: Logger, event: string, fields: object = {}): void {
  const entry = { ...fields, event, security: true };
  if (INFO_EVENTS.has(event)) log.info(entry, event);
  else log.warn(entry, event);
}
