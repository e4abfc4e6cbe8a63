import { pino, type DestinationStream, type Logger } from 'pino';
import pkg from '../package.json' with { type: 'json' };
import type { Config } from './config.ts';

export type { Logger } from 'pino';

// Credential-like fields are redacted at any depth: secrets in headers, bodies or errors never reach logs (G2).
const SECRET_KEY = /authorization|cookie|passw|secret|token|api[-_]?key|credential|session/i;
const MAX_DEPTH = 8;

function scrub(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Error || value instanceof Date) return value;
  if (depth >= MAX_DEPTH) return '[Truncated]';
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? '[Redacted]' : scrub(item, depth + 1);
  }
  return out;
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

export function createLogger(config: Config, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: pkg.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrub(object, 0) as Record<string, unknown>,
      },
      serializers: { err: serializeError, error: serializeError },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

const INFO_EVENTS = new Set(['auth.login.success', 'auth.register', 'auth.logout', 'auth.password.changed', 'auth.refresh']);

/** Security events (G4) go through the same redaction as every other line. */
export function securityEvent(log: Logger, event: string, fields: object = {}): void {
  const entry = { ...fields, event, security: true };
  if (INFO_EVENTS.has(event)) log.info(entry, event);
  else log.warn(entry, event);
}
