// Baseline I: runtime behaviour: graceful shutdown, readiness, crashes, overload.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { DatabaseUnavailableError } from '../src/db/database.ts';
import { openDatabase } from '../src/db/open.ts';
import { translate } from '../src/db/postgres.ts';
import { closeAll, sharedDatabase, startApp, type TestApp } from './support/app.ts';
import { FaultyDatabase, startTcpProxy } from './support/db-faults.ts';
import { NEEDS_REDIS, testEnv, USING_POSTGRES } from './support/env.ts';
import { assertProblem, request } from './support/http.ts';
import { serverEnv, spawnServer, waitForExit } from './support/processes.ts';
import { eventually, sleep } from './support/timing.ts';
import { login, newUser, register, wrongPassword } from './support/users.ts';

let app: TestApp;

before(async () => {
  app = await startApp();
});
afterEach(() => {
  app.db.failing = false;
  app.db.unavailable = false;
  app.db.release();
});
after(closeAll);

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
  });
}

/** Reads one HTTP response from a socket that is already open. */
function readResponse(socket: import('node:net').Socket): Promise<string> {
  return new Promise((resolvePromise) => {
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const end = data.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(data);
      if (end !== -1 && (length === null || data.length >= end + 4 + Number(length[1]))) resolvePromise(data);
    });
    socket.on('close', () => resolvePromise(data));
  });
}

describe('I1: graceful shutdown on SIGTERM (the real server process)', () => {
  test('I1: readiness 503 while draining, then no new connections; the in-flight request finishes; exit 0 in the grace period', { timeout: 90_000, skip: NEEDS_REDIS }, async () => {
    const server = await spawnServer(serverEnv({ SHUTDOWN_DELAY_SECONDS: '2', SHUTDOWN_GRACE_SECONDS: '8' }));
    const port = server.port;
    assert.ok(port !== undefined, `server did not start:\n${server.stderr.join('\n')}`);
    const user = await register(server);
    const { accessToken } = await login(server, user.email, user.password);

    // An in-flight request: headers and half of the body sent, the rest comes after SIGTERM.
    const body = JSON.stringify({ title: 'written during shutdown', body: 'x'.repeat(200) });
    const inflight = connect(port, '127.0.0.1');
    await new Promise<void>((done) => inflight.once('connect', () => done()));
    const inflightResponse = readResponse(inflight);
    inflight.write(
      `POST /v1/notes HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${accessToken}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 50)}`,
    );
    await sleep(200);

    const signalledAt = performance.now();
    server.child.kill('SIGTERM');
    assert.ok(await eventually(() => Promise.resolve(server.logs().some((l) => /shutting down/i.test(String(l.msg)))), 5000), 'no shutdown log line');

    // Load balancers see "not ready" while the listener is still open...
    const ready = await request(server, '/readyz');
    assert.equal(ready.status, 503);
    assert.equal((await request(server, '/healthz')).status, 200, 'liveness must not fail during a drain');
    // ...then the listener closes.
    assert.ok(await eventually(async () => !(await canConnect(port)), 6000), 'still accepting connections after the drain delay');

    // The in-flight request is allowed to finish.
    inflight.write(body.slice(50));
    const response = await inflightResponse;
    inflight.destroy();
    assert.match(response, /^HTTP\/1\.1 201/, `in-flight request: ${response.slice(0, 200)}`);
    assert.match(response, /written during shutdown/);

    const exit = await waitForExit(server, 10_000);
    assert.equal(exit.code, 0, `exit ${String(exit.code)} ${String(exit.signal)}\n${server.stderr.join('\n')}`);
    assert.ok(performance.now() - signalledAt < 10_000, 'exit took longer than the 10 s grace bound');
    assert.ok(server.logs().some((l) => l.msg === 'stopped'), 'no "stopped" line: the pool/store close step did not complete');
  });

  test('I1: a request that never finishes cannot hold the process beyond the grace period', { timeout: 60_000, skip: NEEDS_REDIS }, async () => {
    const server = await spawnServer(serverEnv({ SHUTDOWN_DELAY_SECONDS: '0', SHUTDOWN_GRACE_SECONDS: '2', REQUEST_TIMEOUT_SECONDS: '120', HEADERS_TIMEOUT_SECONDS: '60' }));
    const port = server.port;
    assert.ok(port !== undefined);
    const stuck = connect(port, '127.0.0.1');
    await new Promise<void>((done) => stuck.once('connect', () => done()));
    stuck.on('error', () => undefined);
    stuck.write('POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    await sleep(200);
    const signalledAt = performance.now();
    server.child.kill('SIGTERM');
    const exit = await waitForExit(server, 10_000);
    stuck.destroy();
    const took = performance.now() - signalledAt;
    assert.equal(exit.code, 0, `exit ${String(exit.code)} ${String(exit.signal)}\n${server.stdout.join('\n')}\n${server.stderr.join('\n')}`);
    assert.ok(took < 5000, `took ${took} ms with a 2 s grace period`);
  });
  test('I1: a close step that hangs cannot hold the process beyond the grace period: fatal line, exit 1', { timeout: 60_000, skip: NEEDS_REDIS }, async () => {
    const server = await spawnServer(serverEnv({ FAULT_KIND: 'hang-close', SHUTDOWN_DELAY_SECONDS: '0', SHUTDOWN_GRACE_SECONDS: '2' }), {
      nodeArgs: ['--import', './test/fixtures/fault-injector.ts'],
    });
    assert.ok(server.port !== undefined, server.stderr.join('\n'));
    const signalledAt = performance.now();
    server.child.kill('SIGTERM');
    // Without the bound the process would hang for ever and keep this test file alive.
    const exit = await waitForExit(server, 10_000).finally(() => server.child.kill('SIGKILL'));
    const took = performance.now() - signalledAt;
    assert.equal(exit.code, 1, `exit ${String(exit.code)} ${String(exit.signal)}\n${server.stdout.join('\n')}`);
    assert.ok(took < 3500, `took ${took} ms with a 2 s grace period`);
    assert.equal(server.logs().filter((l) => l.level === 'fatal').length, 1, server.stdout.join('\n'));
  });
});

describe('I2: readiness follows the database; liveness does not', () => {
  test('I2: database failing → /readyz 503 with Retry-After, /healthz 200; recovers by itself', async () => {
    assert.equal((await request(app, '/readyz')).status, 200);
    app.db.failing = true;
    const down = await request(app, '/readyz');
    assertProblem(down, 503);
    assert.match(down.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
    assert.equal((await request(app, '/healthz')).status, 200);
    app.db.failing = false;
    assert.equal((await request(app, '/readyz')).status, 200);
  });

  test('I4: the database reported unavailable → API requests get 503 with Retry-After, not a 500', async () => {
    const user = await newUser(app);
    app.db.unavailable = true;
    const res = await request(app, '/v1/notes', { headers: user.headers });
    assertProblem(res, 503);
    assert.match(res.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
  });

  test('I2: only connection failures become 503; any other database error stays itself (a logged 500, not an outage)', () => {
    const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    const unavailable = [
      ...['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].map((code) => coded(code)),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated unexpectedly'),
      coded('08006'),
      coded('53300'),
      coded('57P01'),
    ];
    for (const err of unavailable) assert.ok(translate(err) instanceof DatabaseUnavailableError, err.message);
    const bugs = [new TypeError('undefined is not a function'), new Error('bind message supplies 1 parameters'), coded('42P01'), coded('22P02'), coded('57014'), coded('ERR_INVALID_ARG_TYPE')];
    for (const err of bugs) assert.equal(translate(err), err);
  });

  test('I2: a database that hangs → /readyz answers 503 in bounded time instead of hanging', { timeout: 30_000 }, async () => {
    app.db.stalled = true;
    const started = performance.now();
    const res = await request(app, '/readyz');
    const took = performance.now() - started;
    app.db.release();
    assertProblem(res, 503);
    assert.ok(took < 5000, `readiness took ${took} ms`);
    assert.equal((await request(app, '/healthz')).status, 200);
  });

  test('I2: a real PostgreSQL outage (connection cut) → 503s, then recovery without a restart', { timeout: 90_000, skip: !USING_POSTGRES && 'needs DATABASE_URL' }, async () => {
    const { url } = await sharedDatabase();
    assert.ok(url !== undefined);
    const target = new URL(url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const db = new FaultyDatabase(await openDatabase(loadConfig(testEnv({ DATABASE_URL: viaProxy.href }))));
    try {
      const proxied = await startApp({}, { db });
      const user = await newUser(proxied);
      assert.equal((await request(proxied, '/readyz')).status, 200);

      await proxy.cut();
      assert.ok(await eventually(async () => (await request(proxied, '/readyz')).status === 503, 10_000), 'readiness stayed 200 with the database gone');
      assert.equal((await request(proxied, '/healthz')).status, 200);
      const started = performance.now();
      const during = await request(proxied, '/v1/notes', { headers: user.headers });
      assertProblem(during, 503);
      assert.match(during.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
      assert.ok(performance.now() - started < 6000, 'requests must fail fast while the database is away');

      await proxy.restore();
      assert.ok(await eventually(async () => (await request(proxied, '/readyz')).status === 200, 15_000), 'readiness did not recover');
      assert.equal((await request(proxied, '/v1/notes', { headers: user.headers })).status, 200);
    } finally {
      await proxy.close();
      await db.close();
    }
  });
});

describe('I3: crashes are fatal, logged and non-zero (the real server process)', () => {
  for (const kind of ['rejection', 'exception'] as const) {
    test(`I3: an unhandled ${kind} → one fatal log line and a non-zero exit`, { timeout: 60_000, skip: NEEDS_REDIS }, async () => {
      const server = await spawnServer(serverEnv({ FAULT_KIND: kind }), { nodeArgs: ['--import', './test/fixtures/fault-injector.ts'] });
      assert.ok(server.port !== undefined, `server did not start:\n${server.stderr.join('\n')}`);
      assert.equal((await request(server, '/healthz')).status, 200);
      server.child.kill('SIGUSR2');
      const exit = await waitForExit(server, 10_000);
      assert.notEqual(exit.code, 0);
      assert.equal(exit.signal, null, 'the process must exit by itself, not be killed');
      const fatal = server.logs().filter((l) => l.level === 'fatal' || l.level === 60);
      assert.equal(fatal.length, 1, `fatal lines:\n${server.stdout.join('\n')}\n${server.stderr.join('\n')}`);
      assert.match(JSON.stringify(fatal[0]), new RegExp(`injected (unhandled rejection|uncaught exception)`));
    });
  }
});

describe('I4: hashing yields the CPU to the event loop (the real server process)', () => {
  /* eslint-disable security/detect-non-literal-fs-filename -- /proc entries of a server this test spawned */
  const nice = (stat: string) => Number(readFileSync(stat, 'utf8').split(') ')[1]?.split(' ')[16]);
  /** Scheduling priority (nice) of each of a process's threads named `name`, from Linux's /proc. */
  function threadNice(pid: number, name: string): number[] {
    const tasks = `/proc/${String(pid)}/task`;
    return readdirSync(tasks)
      .filter((tid) => readFileSync(`${tasks}/${tid}/comm`, 'utf8').trim() === name)
      .map((tid) => nice(`${tasks}/${tid}/stat`));
  }
  /* eslint-enable security/detect-non-literal-fs-filename */

  test('I4: argon2 runs in libuv threads at a low priority (nice 10), the event loop at normal priority', { timeout: 60_000, skip: NEEDS_REDIS || (!existsSync('/proc/self/task') && 'Linux only') }, async () => {
    const server = await spawnServer(serverEnv());
    try {
      assert.ok(server.port !== undefined && server.child.pid !== undefined, server.stderr.join('\n'));
      const pid = server.child.pid;
      // The dummy hash made at startup starts the pool; a login proves a hash has run.
      await register(server);
      assert.ok(await eventually(() => Promise.resolve(threadNice(pid, 'libuv-worker').every((nice) => nice === 10)), 5000), `libuv threads: ${JSON.stringify(threadNice(pid, 'libuv-worker'))}`);
      assert.ok(threadNice(pid, 'libuv-worker').length >= 1);
      assert.equal(nice(`/proc/${String(pid)}/stat`), 0, 'the main thread keeps its priority');
    } finally {
      await server.stop();
    }
  });
});

describe('I4: overload is shed with 429/503 and Retry-After', () => {
  test('I4: past the global limit → 429 problem+json with Retry-After and RateLimit headers', async () => {
    const limited = await startApp({ RATE_LIMIT_GLOBAL_MAX: '5', RATE_LIMIT_GLOBAL_WINDOW_SECONDS: '60' });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 8; i += 1) {
      last = await request(limited, '/openapi.json');
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    assert.ok(last !== undefined);
    assertProblem(last, 429);
    const retryAfter = Number(last.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${last.headers.get('retry-after')}`);
    assert.ok(last.headers.get('ratelimit') !== null || last.headers.get('ratelimit-remaining') !== null, 'standard RateLimit headers');
  });

  test('I1: health probes are exempt from the global limit: past it, /healthz and /readyz still answer 200', async () => {
    const limited = await startApp({ RATE_LIMIT_GLOBAL_MAX: '2', RATE_LIMIT_GLOBAL_WINDOW_SECONDS: '60' });
    for (let i = 0; i < 3; i += 1) await request(limited, '/openapi.json');
    assert.equal((await request(limited, '/openapi.json')).status, 429, 'the global limit is exhausted');
    for (let i = 0; i < 5; i += 1) {
      assert.equal((await request(limited, '/healthz')).status, 200);
      assert.equal((await request(limited, '/readyz')).status, 200);
    }
  });

  test('I4: a login flood beyond the hashing queue → fast 503 with Retry-After; the rest of the API stays responsive', { timeout: 60_000 }, async () => {
    const bounded = await startApp({ HASH_CONCURRENCY: '1', HASH_QUEUE_MAX: '1' });
    const user = await newUser(bounded);
    const flood = Array.from({ length: 12 }, () => request(bounded, '/v1/auth/login', { method: 'POST', json: { email: user.email, password: wrongPassword() } }));
    const probes: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const started = performance.now();
      assert.equal((await request(bounded, '/v1/users/me', { headers: user.headers })).status, 200);
      probes.push(performance.now() - started);
    }
    const results = await Promise.all(flood);
    const shed = results.filter((r) => r.status === 503);
    assert.ok(shed.length >= 1, `statuses ${results.map((r) => r.status).join(',')}`);
    for (const res of shed) {
      assertProblem(res, 503);
      assert.match(res.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
    }
    assert.ok(results.every((r) => r.status === 401 || r.status === 503));
    assert.ok(Math.max(...probes) < 1000, `authenticated requests stalled during the flood: ${probes.map((p) => p.toFixed(0)).join(', ')} ms`);
  });
});
