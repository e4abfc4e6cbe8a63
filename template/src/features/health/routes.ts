import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { ServiceUnavailableError } from '../../http/errors.ts';
import { defineRoute, type Route } from '../../http/registry.ts';

const READINESS_TIMEOUT_MS = 2000;
const statusSchema = z.object({ status: z.enum(['ok']) });

function withTimeout(check: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error('readiness check timed out')); }, ms);
  });
  return Promise.race([check, timeout]).finally(() => { clearTimeout(timer); });
}

/** Liveness skips the DB: an outage must not restart every replica (I2); readiness drains (I1); no versions (H4). */
export function healthRoutes(deps: { db: Database; state: { shuttingDown: boolean }; checks: (() => Promise<void>)[] }): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      summary: 'Liveness: the process is up',
      tag: 'health',
      access: 'public',
      responses: { 200: { description: 'Alive', schema: statusSchema } },
      handler: () => Promise.resolve({ status: 200, body: { status: 'ok' } }),
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      summary: 'Readiness: the instance can serve traffic',
      tag: 'health',
      access: 'public',
      responses: {
        200: { description: 'Ready', schema: statusSchema },
        503: { description: 'Shutting down, or a dependency is unreachable' },
      },
      handler: async () => {
        if (deps.state.shuttingDown) throw new ServiceUnavailableError('Not ready');
        try {
          await withTimeout(Promise.all([deps.db.ping(), ...deps.checks.map((check) => check())]).then(() => undefined), READINESS_TIMEOUT_MS);
        } catch {
          throw new ServiceUnavailableError('Not ready');
        }
        return { status: 200, body: { status: 'ok' } };
      },
    }),
  ];
}
