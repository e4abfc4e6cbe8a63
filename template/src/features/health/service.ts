import type { Database } from '../../db/database.ts';

const READINESS_TIMEOUT_MS = 2000;

function withTimeout(check: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error('readiness check timed out')); }, ms);
  });
  return Promise.race([check, timeout]).finally(() => { clearTimeout(timer); });
}

export function createHealthService(deps: { db: Database; state: { shuttingDown: boolean }; checks: (() => Promise<void>)[] }) {
  return {
    /** False while shutting down (I1) or while a dependency fails or hangs (I2, I4). */
    async ready(): Promise<boolean> {
      if (deps.state.shuttingDown) return false;
      try {
        await withTimeout(Promise.all([deps.db.ping(), ...deps.checks.map((check) => check())]).then(() => undefined), READINESS_TIMEOUT_MS);
        return true;
      } catch {
        return false;
      }
    },
  };
}

export type HealthService = ReturnType<typeof createHealthService>;
