// The real app (createApp) in this process on an ephemeral port, with one shared database per test file
// and every log line captured. PGlite in memory by default; a fresh PostgreSQL database per file when
// DATABASE_URL is set; Redis counters (under a unique prefix per app) when this is the Redis variant and
// REDIS_URL is set.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { after, afterEach, before } from 'node:test';
import type { Express } from 'express';
import { createApp, routeTable, type RouteEntry } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open.ts';
import { memoryStores, type RateLimitStores } from '../../src/http/rate-limit.ts';
import { createRateLimitStores } from '../../src/http/rate-limit-store.ts';
import { createLogger } from '../../src/logger.ts';
import { RATE_LIMIT_STORE } from '../../src/rate-limit-choice.ts';
import { FaultyDatabase } from './db-faults.ts';
import { nonEmpty, testEnv, USING_REDIS } from './env.ts';
import { LogCapture } from './logs.ts';
import { killAll } from './processes.ts';
import { withTimeout } from './timing.ts';
import { newUser, type TestUser } from './users.ts';

interface SharedDatabase {
  db: FaultyDatabase;
  /** The DATABASE_URL of this file's own PostgreSQL database (undefined on PGlite). */
  url: string | undefined;
  drop: () => Promise<void>;
}

let shared: Promise<SharedDatabase> | undefined;

function fileTag(): string {
  const script = process.argv[1] ?? 'test';
  const slug = basename(script).replace(/\.test\.ts$/, '').replace(/[^a-z0-9]+/gi, '_').toLowerCase().slice(0, 30);
  return `t_${slug}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

/** A fresh, empty database: PGlite in memory, or a new PostgreSQL database next to DATABASE_URL's. */
export async function freshDatabase(): Promise<SharedDatabase> {
  const adminUrl = nonEmpty(process.env.DATABASE_URL);
  if (adminUrl === undefined) {
    const db = new FaultyDatabase(await openDatabase(loadConfig(testEnv({ DATABASE_URL: undefined }))));
    return { db, url: undefined, drop: () => Promise.resolve() };
  }
  const name = fileTag();
  const admin = await openDatabase(loadConfig(testEnv({ DATABASE_URL: adminUrl })));
  try {
    // The name is made above from [a-z0-9_] only; identifiers cannot be bound as parameters.
    await admin.exec(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.close();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = new FaultyDatabase(await openDatabase(loadConfig(testEnv({ DATABASE_URL: url.href }))));
  return {
    db,
    url: url.href,
    drop: async () => {
      const dropper = await openDatabase(loadConfig(testEnv({ DATABASE_URL: adminUrl })));
      try {
        await dropper.exec(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await dropper.close();
      }
    },
  };
}

/** This file's database, migrated once. */
export async function sharedDatabase(): Promise<SharedDatabase> {
  shared ??= (async () => {
    const fresh = await freshDatabase();
    await migrate(fresh.db);
    return fresh;
  })();
  return shared;
}

export interface TestApp {
  url: string;
  port: number;
  config: Config;
  logs: LogCapture;
  db: FaultyDatabase;
  server: Server;
  app: Express;
  routes: readonly RouteEntry[];
  close: () => Promise<void>;
}

const started: TestApp[] = [];

/** Keeps each app's Redis counters apart from every other app's (and test run's), unless told to share. */
function prefixed(stores: RateLimitStores, prefix: string): RateLimitStores {
  return { ...stores, create: (name) => stores.create(`${prefix}:${name}`) };
}

export interface StartOptions {
  /** Another database than this file's shared one (wrapped so that it can fail on demand). */
  db?: FaultyDatabase;
  /** Apps given the same prefix share their rate-limit counters (replicas on one Redis). */
  storePrefix?: string;
}

/** Starts the real app (createApp) with the test environment plus `overrides`, on 127.0.0.1:0. */
export async function startApp(overrides: Record<string, string | undefined> = {}, options: StartOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await sharedDatabase()).db;
  const config = loadConfig(testEnv(overrides));
  const logs = new LogCapture();
  const logger = createLogger(config, logs);
  const stores = prefixed(
    USING_REDIS || RATE_LIMIT_STORE === 'memory' ? await createRateLimitStores(config, logger) : memoryStores(),
    options.storePrefix ?? `test-${randomUUID()}`,
  );
  const state = { shuttingDown: false };
  const app = createApp({ config, logger, db, rateLimitStores: stores, state });
  const server = createServer(app);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const testApp: TestApp = {
    url: `http://127.0.0.1:${port}`,
    port,
    config,
    logs,
    db,
    server,
    app,
    routes: routeTable(app),
    close: () => (closing ??= (async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      // A client stuck reconnecting to a dependency a test took away must not hang the file's teardown.
      await withTimeout(stores.close(), 3000).catch(() => undefined);
    })()),
  };
  started.push(testApp);
  return testApp;
}

/** Stops every app this file started, then drops this file's database. Call it from `after()`. */
export async function closeAll(): Promise<void> {
  // A server left by a test that timed out would keep this file's process (and node --test) alive.
  killAll();
  for (const app of started.splice(0)) await app.close();
  if (shared !== undefined) {
    const { db, drop } = await shared;
    shared = undefined;
    await db.close();
    await drop();
  }
}

/**
 * The usual file setup: one app and one registered user shared by the file's tests (handed to `assign`),
 * the database wrapper healed after each test, everything closed after the file.
 */
export function shareApp(assign: (shared: { app: TestApp; user: TestUser }) => void): void {
  let app: TestApp | undefined;
  before(async () => {
    app = await startApp();
    assign({ app, user: await newUser(app) });
  });
  afterEach(() => {
    if (app !== undefined) {
      app.db.failing = false;
      app.db.unavailable = false;
    }
  });
  after(closeAll);
}
