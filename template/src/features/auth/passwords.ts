import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { argon2id, hash, verify } from 'argon2';
import { ServiceUnavailableError } from '../../http/errors.ts';
import { normalizePassword } from './password-policy.ts';

// OWASP Password Storage minimum for argon2id: 19 MiB, 2 passes, 1 lane; argon2 adds a random salt (D1).
const ARGON2_OPTIONS = { type: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Same time as a real verification, so timing cannot tell which accounts exist (D3). */
  verifyDummy(password: string): Promise<void>;
  /** Sheds an overload with 503 before the caller spends a database round trip (I4). */
  assertCapacity(): void;
}

export function createSemaphore(concurrency: number, queueMax: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  const assertCapacity = () => {
    // Shedding load beats an unbounded queue: callers get Retry-After instead of a timeout (I4).
    if (active >= concurrency && waiting.length >= queueMax) {
      throw new ServiceUnavailableError('Too many password checks in progress', 1);
    }
  };
  async function run<T>(task: () => Promise<T>): Promise<T> {
    assertCapacity();
    if (active < concurrency) {
      active += 1;
    } else {
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next === undefined) active -= 1;
      else next();
    }
  }
  return { run, assertCapacity };
}

/**
 * Linux: libuv's pool threads, where argon2 runs, get a low scheduling priority (nice 10). On a CPU
 * shared with the event loop, the event loop preempts hashing at once and hashing gets about a tenth of
 * the CPU while the event loop is saturated (nice 19 measured: logins starved): a login flood cannot hold
 * up every other request, and logins still progress (D1, I4).
 */
const HASHING_NICE = 10;

function lowerThreadpoolPriority(): void {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return; // not Linux: threads keep the normal priority
  }
  for (const task of tasks) {
    try {
      // eslint-disable-next-line security/detect-non-literal-fs-filename -- /proc of this process
      if (readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim() === 'libuv-worker') setPriority(Number(task), HASHING_NICE);
    } catch {
      // the thread is gone, or the system refuses: hashing still works, at normal priority
    }
  }
}

/** Bounded concurrency: a login flood must not take every libuv thread and stall the rest of the API (D1). */
export function createPasswordHasher(options: { concurrency: number; queueMax: number }): PasswordHasher {
  const { run, assertCapacity } = createSemaphore(options.concurrency, options.queueMax);
  const hashPassword = (password: string) => run(() => hash(normalizePassword(password), ARGON2_OPTIONS));
  const verifyPassword = (passwordHash: string, password: string) =>
    run(() => verify(passwordHash, normalizePassword(password)).catch(() => false));
  // Made eagerly so the first unknown-account login costs the same as any other.
  const makeDummy = () => hashPassword(randomBytes(32).toString('base64url'));
  let dummyHash: Promise<string | undefined> = makeDummy().catch(() => undefined);
  // libuv starts all its pool threads before the first hash runs: once it is done, they can be found.
  void dummyHash.then(() => lowerThreadpoolPriority());
  return {
    hash: hashPassword,
    verify: verifyPassword,
    assertCapacity,
    async verifyDummy(password) {
      let known = await dummyHash;
      if (known === undefined) {
        known = await makeDummy();
        dummyHash = Promise.resolve(known);
      }
      await verifyPassword(known, password);
    },
  };
}
