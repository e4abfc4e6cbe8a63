import { z } from 'zod';
import { ServiceUnavailableError } from '../../http/errors.ts';
import { defineRoute, type Route } from '../../http/registry.ts';
import type { HealthService } from './service.ts';

const statusSchema = z.object({ status: z.enum(['ok']) });

/** Liveness skips the DB: an outage must not restart every replica (I2); readiness drains (I1); no versions (H4). */
export function healthRoutes(health: HealthService): Route[] {
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
        if (!(await health.ready())) throw new ServiceUnavailableError('Not ready');
        return { status: 200, body: { status: 'ok' } };
      },
    }),
  ];
}
