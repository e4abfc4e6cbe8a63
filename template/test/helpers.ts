// Test harness: the real app on an ephemeral port, one shared database per test file, every log line
// captured. PGlite in memory by default; a fresh PostgreSQL database per file when DATABASE_URL is set;
// Redis counters (under a unique prefix per app) when this is the Redis variant and REDIS_URL is set.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, afterEach, before } from 'node:test';
import { randomBytes, randomUUID } from 'node:crypto';
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from 'node:net';
import { createServer, type Server } from 'node:http';
import { basename, resolve } from 'node:path';
import type { Express } from 'express';
import { createApp, routeTable, type RouteEntry } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { openDatabase, type Database, type QueryResult } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { memoryStores, type RateLimitStores } from '../src/http/rate-limit.ts';
import { createRateLimitStores, RATE_LIMIT_STORE } from '../src/http/rate-limit-store.ts';
import { createLogger, type Logger } from '../src/logger.ts';

export const PROJECT_DIR = resolve(import.meta.dirname, '..');
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

function nonEmpty(value: string | undefined): string | undefined {
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

// ---------------------------------------------------------------------------------------------------
// Log capture
// ---------------------------------------------------------------------------------------------------

export type LogLine = Record<string, unknown>;

/** A pino destination that keeps every line; `lines` is the raw text, `entries` the parsed objects. */
export class LogCapture {
  readonly lines: string[] = [];

  write(chunk: string): void {
    for (const line of chunk.split('\n')) if (line !== '') this.lines.push(line);
  }

  get entries(): LogLine[] {
    return this.lines.map((line) => JSON.parse(line) as LogLine);
  }

  /** Lines written since `mark` (a previous `lines.length`). */
  since(mark: number): LogLine[] {
    return this.lines.slice(mark).map((line) => JSON.parse(line) as LogLine);
  }

  text(since = 0): string {
    return this.lines.slice(since).join('\n');
  }

  byRequestId(id: string): LogLine[] {
    return this.entries.filter((entry) => entry.reqId === id);
  }

  events(name: string, since = 0): LogLine[] {
    return this.since(since).filter((entry) => entry.event === name);
  }
}

// ---------------------------------------------------------------------------------------------------
// Database: one per test file, with a switch that makes it fail like an unreachable server
// ---------------------------------------------------------------------------------------------------

/** What a broken database says: SQL, a host and a file path that must never reach a client (B3). */
export const DB_FAILURE_MESSAGE =
  'connect ECONNREFUSED 10.9.8.7:5432 while running SELECT password_hash FROM users at /srv/app/node_modules/pg/lib/client.js:132';

/** Wraps the real database; while `failing`, every call rejects (and while `stalled`, hangs) like a lost server. */
export class FaultyDatabase implements Database {
  failing = false;
  stalled = false;
  readonly inner: Database;
  private readonly releases: (() => void)[] = [];

  constructor(inner: Database) {
    this.inner = inner;
  }

  private async gate(): Promise<void> {
    if (this.stalled) await new Promise<void>((release) => this.releases.push(release));
    if (this.failing) {
      const err = new Error(DB_FAILURE_MESSAGE) as Error & { code: string };
      err.code = 'ECONNREFUSED';
      throw err;
    }
  }

  /** Ends a stall: every waiting call proceeds (and fails if `failing` is still on). */
  release(): void {
    this.stalled = false;
    for (const release of this.releases.splice(0)) release();
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    await this.gate();
    return this.inner.query<T>(sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.gate();
    await this.inner.exec(sql);
  }

  async transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    await this.gate();
    return this.inner.transaction(fn);
  }

  async ping(): Promise<void> {
    await this.gate();
    await this.inner.ping();
  }

  async close(): Promise<void> {
    this.release();
    await this.inner.close();
  }
}

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

// ---------------------------------------------------------------------------------------------------
// In-process app on an ephemeral port
// ---------------------------------------------------------------------------------------------------

export interface TestApp {
  url: string;
  port: number;
  config: Config;
  logger: Logger;
  logs: LogCapture;
  db: FaultyDatabase;
  state: { shuttingDown: boolean };
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
    logger,
    logs,
    db,
    state,
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
  for (const child of children) child.kill('SIGKILL');
  for (const app of started.splice(0)) await app.close();
  if (shared !== undefined) {
    const { db, drop } = await shared;
    shared = undefined;
    await db.close();
    await drop();
  }
}

// ---------------------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------------------

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** fetch + body read; JSON bodies are parsed, anything else is left in `text`. */
export async function request<T = Record<string, unknown>>(
  app: { url: string },
  path: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown; body?: string } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${app.url}${path}`, { method: init.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown = undefined;
  if (/json/.test(res.headers.get('content-type') ?? '') && text !== '') parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

let userCounter = 0;

/** A password that passes the rules (D2): long, unique, not on any list. */
export function strongPassword(): string {
  return `quiet-lantern-${randomBytes(9).toString('base64url')}-harbor`;
}

/** A password guess that never matches: fresh per call, so no literal credential sits in the tests. */
export function wrongPassword(): string {
  return `wrong-guess-${randomBytes(9).toString('base64url')}`;
}

/** A value that must never show up in output (a log line, an error message), unique per call. */
export function canary(tag: string): string {
  return `${tag}-${randomBytes(5).toString('hex')}`;
}

export function uniqueEmail(tag = 'user'): string {
  userCounter += 1;
  return `${tag}-${userCounter}-${randomBytes(4).toString('hex')}@example.com`;
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  displayName: string;
  accessToken: string;
  refreshToken: string;
  headers: Record<string, string>;
}

export async function register(app: { url: string }, input: { email?: string; password?: string; displayName?: string } = {}) {
  const email = input.email ?? uniqueEmail();
  const password = input.password ?? strongPassword();
  const displayName = input.displayName ?? 'Test User';
  const res = await request(app, '/v1/auth/register', { method: 'POST', json: { email, password, displayName } });
  assert.equal(res.status, 201, `register failed: ${res.text}`);
  return { id: String(res.body.id), email, password, displayName };
}

export async function login(app: { url: string }, email: string, password: string) {
  const res = await request(app, '/v1/auth/login', { method: 'POST', json: { email, password } });
  assert.equal(res.status, 200, `login failed: ${res.text}`);
  return { accessToken: String(res.body.accessToken), refreshToken: String(res.body.refreshToken) };
}

/** Registers a new account and logs it in. */
export async function newUser(app: { url: string }, input: { email?: string; password?: string; displayName?: string } = {}): Promise<TestUser> {
  const user = await register(app, input);
  const tokens = await login(app, user.email, user.password);
  return { ...user, ...tokens, headers: bearer(tokens.accessToken) };
}

/** The problem+json shape every error shares (B3): type, title, status, requestId; never internals. */
export function assertProblem(res: JsonResponse, status: number): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(typeof res.body.type, 'string');
  assert.equal(typeof res.body.title, 'string');
  assert.equal(res.body.status, status);
  assert.equal(typeof res.body.requestId, 'string');
  assert.equal(res.body.requestId, res.headers.get('x-request-id'));
  assertNoInternals(res.text);
}

/** No stack frame, file path, SQL, parser message or library name in client-visible text (B3). */
export function assertNoInternals(text: string): void {
  const forbidden: [RegExp, string][] = [
    [/\bat .+:\d+:\d+/, 'stack frame'],
    [/(\/|\\)(src|srv|node_modules|home|usr)(\/|\\)/, 'file path'],
    [/\.(ts|js|cjs|mjs):\d+/, 'source location'],
    [/\b(SELECT|INSERT|UPDATE|DELETE)\b.+\b(FROM|INTO|SET)\b/i, 'SQL'],
    [/ECONNREFUSED|10\.9\.8\.7/, 'connection detail'],
    [/\b(express|body-parser|pglite|postgres(ql)?|node-postgres|zod|argon2|jose|pino|undici)\b/i, 'library name'],
    [/Unexpected token|in JSON at position|SyntaxError|TypeError|ReferenceError/, 'runtime error text'],
  ];
  for (const [pattern, what] of forbidden) assert.doesNotMatch(text, pattern, `response leaks a ${what}: ${text}`);
}

// ---------------------------------------------------------------------------------------------------
// Raw sockets: malformed requests, methods fetch refuses (TRACE), slow clients
// ---------------------------------------------------------------------------------------------------

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

function parseRaw(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: end === -1 ? '' : raw.slice(end + 4), raw };
}

/** Sends bytes as they are and reads until the server closes (send `Connection: close`). */
export async function rawRequest(port: number, payload: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms: ${Buffer.concat(chunks).toString('latin1')}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolvePromise(parseRaw(Buffer.concat(chunks).toString('utf8')));
    });
    socket.write(payload);
  });
}

/** A client that never finishes its headers: sends one header line every `intervalMs` until cut off. */
export async function slowHeaders(port: number, intervalMs: number, giveUpMs: number): Promise<{ cutOffAfterMs: number | undefined; response: string }> {
  return new Promise((resolvePromise) => {
    const startedAt = performance.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let n = 0;
    socket.on('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n'));
    const drip = setInterval(() => {
      n += 1;
      socket.write(`X-Drip-${n}: ${n}\r\n`);
    }, intervalMs);
    const finish = (cutOff: boolean) => {
      clearInterval(drip);
      clearTimeout(giveUp);
      socket.destroy();
      resolvePromise({ cutOffAfterMs: cutOff ? performance.now() - startedAt : undefined, response: Buffer.concat(chunks).toString('latin1') });
    };
    const giveUp = setTimeout(() => finish(false), giveUpMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
  });
}

// ---------------------------------------------------------------------------------------------------
// The real server process: `node src/server.ts`
// ---------------------------------------------------------------------------------------------------

export interface ServerProcess {
  child: ChildProcess;
  /** Every stdout/stderr line so far. */
  stdout: string[];
  stderr: string[];
  port: number | undefined;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Parsed JSON log lines (stdout). */
  logs: () => LogLine[];
  stop: () => Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** The environment of a spawned server: nothing inherited but PATH, so a test sees exactly what it sets. */
export function serverEnv(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  const merged = {
    PATH: process.env.PATH,
    ...testEnv(),
    // Stops are quick unless a test asks for the load-balancer drain delay (I1).
    SHUTDOWN_DELAY_SECONDS: '0',
    DATABASE_URL: undefined,
    ...overrides,
  };
  for (const [key, value] of Object.entries(merged)) if (value !== undefined) env[key] = value;
  return env;
}

function parseJsonLines(lines: string[]): LogLine[] {
  const out: LogLine[] = [];
  for (const line of lines) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed !== null && typeof parsed === 'object') out.push(parsed as LogLine);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/**
 * Spawns `node [...nodeArgs] src/server.ts` with exactly `env`. Resolves once the process logs that it is
 * listening (then `port` is set) or once it exits, whichever comes first.
 */
export async function spawnServer(env: Record<string, string>, options: { nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), 'src/server.ts'], { cwd: PROJECT_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      done({ code, signal });
    });
  });
  const proc: ServerProcess = {
    child,
    stdout,
    stderr,
    port: undefined,
    url: '',
    exited,
    logs: () => parseJsonLines(stdout),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  const listening = new Promise<void>((done) => {
    const onLine = (line: string) => {
      const entry = parseJsonLines([line])[0];
      if (entry !== undefined && /listening/i.test(String(entry.msg)) && typeof entry.port === 'number') {
        proc.port = entry.port;
        proc.url = `http://127.0.0.1:${entry.port}`;
        done();
      }
    };
    lineReader(child.stdout, stdout, onLine);
    lineReader(child.stderr, stderr, () => undefined);
    void exited.then(() => done());
  });
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    listening,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`server neither listened nor exited within ${timeoutMs} ms:\n${stdout.join('\n')}\n${stderr.join('\n')}`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return proc;
}

function lineReader(stream: NodeJS.ReadableStream | null, sink: string[], onLine: (line: string) => void): void {
  if (stream === null) return;
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      sink.push(line);
      onLine(line);
      newline = buffer.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buffer !== '') {
      sink.push(buffer);
      onLine(buffer);
    }
  });
}

/** Resolves with the exit of a process that is expected to stop by itself within `timeoutMs`. */
export async function waitForExit(proc: ServerProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      proc.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------
// A TCP proxy in front of a dependency (PostgreSQL, Redis), to take it away and bring it back
// ---------------------------------------------------------------------------------------------------

export interface TcpProxy {
  port: number;
  /** Drops every connection and refuses new ones, like a dependency that went away. */
  cut: () => Promise<void>;
  /** Listens again on the same port. */
  restore: () => Promise<void>;
  close: () => Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const makeServer = () =>
    createNetServer((client) => {
      const upstream = connect(targetPort, targetHost);
      sockets.add(client);
      sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
  let server = makeServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  let listening = true;
  const cut = async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (listening) {
      listening = false;
      await new Promise<void>((done) => server.close(() => done()));
    }
  };
  return {
    port,
    cut,
    restore: async () => {
      if (listening) return;
      server = makeServer();
      await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
      listening = true;
    },
    close: cut,
  };
}

/** Polls `check` every 100 ms until it returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

/** Resolves or rejects like `promise`, or rejects after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
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
    if (app !== undefined) app.db.failing = false;
  });
  after(closeAll);
}
