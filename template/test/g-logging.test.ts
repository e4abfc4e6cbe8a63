// Baseline G: logging (ASVS V16): structured lines, no secrets, request ids, security events.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { createUserService } from '../src/features/users/service.ts';
import { createLogger } from '../src/logger.ts';
import { shareApp, startApp, type TestApp } from './support/app.ts';
import { configEnv, NEEDS_REDIS } from './support/env.ts';
import { request } from './support/http.ts';
import { canary, type LogLine } from './support/logs.ts';
import { serverEnv, spawnServer, waitForExit } from './support/processes.ts';
import { newUser, type TestUser, wrongPassword } from './support/users.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let app: TestApp;
let user: TestUser;

shareApp((shared) => ({ app, user } = shared));

function requestLine(id: string): LogLine {
  const line = app.logs.byRequestId(id).find((entry) => entry.msg === 'request' || ('status' in entry && 'method' in entry));
  assert.ok(line !== undefined, `no request log line for ${id}:\n${app.logs.text()}`);
  return line;
}

describe('G1: one JSON object per line with the request facts', () => {
  test('G1: every line is a single JSON object with time and level', () => {
    assert.ok(app.logs.lines.length > 0);
    for (const line of app.logs.lines) {
      const entry: unknown = JSON.parse(line);
      assert.ok(entry !== null && typeof entry === 'object' && !Array.isArray(entry), line);
      const { time, level } = entry as LogLine;
      assert.ok(typeof time === 'string' ? !Number.isNaN(Date.parse(time)) : typeof time === 'number', `time in ${line}`);
      assert.ok(typeof level === 'string' || typeof level === 'number', `level in ${line}`);
    }
  });

  test('G1: a request line carries request id, method, route pattern, status and latency', async () => {
    const note = await request<{ id: string }>(app, '/v1/notes', { method: 'POST', headers: user.headers, json: { title: 'log me', body: 'b' } });
    const res = await request(app, `/v1/notes/${note.body.id}`, { headers: user.headers });
    const id = res.headers.get('x-request-id') ?? '';
    const line = requestLine(id);
    assert.equal(line.reqId, id);
    assert.equal(line.method, 'GET');
    assert.equal(line.route, '/v1/notes/:id', 'the route pattern, not the concrete path (ids are not a cardinality bomb)');
    assert.equal(line.status, 200);
    const latency = line.latencyMs ?? line.responseTime ?? line.latency;
    assert.equal(typeof latency, 'number');
    assert.ok((latency as number) >= 0);
  });

  test('G1: failures are logged as errors with the same request id; 4xx as info/warn', async () => {
    app.db.failing = true;
    const failed = await request(app, '/v1/notes', { headers: user.headers });
    app.db.failing = false;
    const failedLine = requestLine(failed.headers.get('x-request-id') ?? '');
    assert.equal(failedLine.status, failed.status);
    assert.ok(['error', 50, 'fatal', 60].includes(failedLine.level as string | number), `level ${String(failedLine.level)}`);
    const missing = await request(app, '/nowhere');
    const missingLine = requestLine(missing.headers.get('x-request-id') ?? '');
    assert.equal(missingLine.status, 404);
    assert.ok(!['error', 50, 'fatal', 60].includes(missingLine.level as string | number));
  });

  test('G1: the query string is not logged (it may carry secrets)', async () => {
    const res = await request(app, '/v1/notes?limit=5&cursor=querysecretvalue123', { headers: user.headers });
    requestLine(res.headers.get('x-request-id') ?? '');
    assert.ok(!app.logs.text().includes('querysecretvalue123'));
  });
});

describe('G1: logs are buffered per event-loop turn, and no line is lost when the process ends', () => {
  const REQUESTS = 200;
  const ids = Array.from({ length: REQUESTS }, (_, i) => `lost-line-check-${String(i).padStart(4, '0')}`);

  async function burst(server: { url: string }): Promise<void> {
    // Many requests at once: their lines share write batches, and the last batch is still buffered when the stop begins.
    const statuses = await Promise.all(ids.map(async (id) => (await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': id } })).status));
    assert.ok(statuses.every((status) => status === 200));
  }

  function assertAllLogged(lines: LogLine[], output: string): void {
    const logged = new Set(lines.filter((l) => l.msg === 'request').map((l) => l.reqId));
    const missing = ids.filter((id) => !logged.has(id));
    assert.deepEqual(missing, [], `request lines missing:\n${output.slice(-2000)}`);
  }

  test('G1: a SIGTERM shutdown writes every request line and the final "stopped" line before exit 0', { timeout: 60_000, skip: NEEDS_REDIS }, async () => {
    const server = await spawnServer(serverEnv());
    assert.ok(server.port !== undefined, server.stderr.join('\n'));
    await burst(server);
    server.child.kill('SIGTERM');
    const exit = await waitForExit(server, 15_000);
    assert.equal(exit.code, 0);
    assertAllLogged(server.logs(), server.stdout.join('\n'));
    assert.equal(server.logs().at(-1)?.msg, 'stopped');
  });

  test('G1: a crash (uncaught exception) still writes every line logged before it, then the fatal line', { timeout: 60_000, skip: NEEDS_REDIS }, async () => {
    const server = await spawnServer(serverEnv({ FAULT_KIND: 'exception' }), { nodeArgs: ['--import', './test/fixtures/fault-injector.ts'] });
    assert.ok(server.port !== undefined, server.stderr.join('\n'));
    await burst(server);
    server.child.kill('SIGUSR2');
    const exit = await waitForExit(server, 10_000);
    assert.equal(exit.code, 1);
    assertAllLogged(server.logs(), server.stdout.join('\n'));
    assert.equal(server.logs().at(-1)?.level, 'fatal');
  });
});

describe('G2: no secrets in any log line', () => {
  test('G2: the logger itself redacts credential-named fields at any depth and drops extras of errors', () => {
    const lines: string[] = [];
    const log = createLogger(loadConfig(configEnv({ NODE_ENV: 'test', LOG_LEVEL: 'info' })), { write: (line: string) => void lines.push(line) });
    const secret = (n: number) => `log-secret-${n}-9d8c7b6a`;
    // A library error carrying the request it failed on, as HTTP and database clients do.
    const err = Object.assign(new Error('upstream failed'), {
      code: 'E_UPSTREAM',
      config: { headers: { Authorization: `Bearer ${secret(1)}` }, data: `{"password":"${secret(2)}"}` },
      response: { headers: { 'set-cookie': secret(3) } },
    });
    log.error({ err }, 'call failed');
    log.info({ user: { profile: { apiKey: secret(4), sessions: [{ refreshToken: secret(5) }] } }, headers: { cookie: secret(6) } }, 'nested');
    log.warn({ body: { newPassword: secret(7), client_secret: secret(8) } }, 'body');
    assert.equal(lines.length, 3);
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) {
      assert.ok(!lines.some((line) => line.includes(secret(n))), `secret ${n} reached a log line`);
    }
    const first = JSON.parse(lines[0] ?? '{}') as { err?: { message?: string; code?: string } };
    assert.deepEqual([first.err?.message, first.err?.code], ['upstream failed', 'E_UPSTREAM'], 'the error itself is still logged');
  });

  test('G2: Authorization, cookies, passwords and nested tokens, through failing handlers, leave no trace', async () => {
    const secrets = {
      cookie: canary('cookie-secret'),
      password: canary('password-secret'),
      newPassword: canary('new-password-secret'),
      nested: canary('nested-token-secret'),
      apiKey: canary('api-key-secret'),
    };
    const mark = app.logs.lines.length;
    const ids: string[] = [];
    const track = async (res: Promise<{ status: number; headers: Headers }>) => {
      const done = await res;
      ids.push(done.headers.get('x-request-id') ?? '');
      return done;
    };
    const common = { ...user.headers, cookie: `session=${secrets.cookie}; refresh=${user.refreshToken}`, 'x-api-key': secrets.apiKey };

    // Handlers that fail (the database is gone) while holding a password, a refresh token, an access token.
    app.db.failing = true;
    const failures = [
      await track(request(app, '/v1/auth/login', { method: 'POST', headers: common, json: { email: user.email, password: secrets.password } })),
      await track(request(app, '/v1/auth/refresh', { method: 'POST', headers: common, json: { refreshToken: user.refreshToken } })),
      await track(
        request(app, '/v1/auth/password', { method: 'POST', headers: common, json: { currentPassword: user.password, newPassword: secrets.newPassword } }),
      ),
      await track(request(app, '/v1/notes', { method: 'POST', headers: common, json: { title: 't', body: 'b' } })),
    ];
    app.db.failing = false;
    for (const res of failures) assert.ok(res.status >= 500, `expected a failing handler, got ${res.status}`);

    // Validation rejections that carry the secrets in unexpected, nested places.
    await track(
      request(app, '/v1/notes', {
        method: 'POST',
        headers: common,
        json: { title: 't', body: 'b', auth: { token: secrets.nested, deeper: { refreshToken: user.refreshToken, password: secrets.password } } },
      }),
    );
    await track(request(app, '/v1/auth/login', { method: 'POST', headers: common, json: { email: user.email, password: secrets.password, extra: { token: secrets.nested } } }));
    // Malformed JSON whose text holds the secret.
    await track(request(app, '/v1/auth/login', { method: 'POST', headers: { ...common, 'content-type': 'application/json' }, body: `{"password":"${secrets.password}",` }));
    // A wrong password and a bad bearer token.
    await track(request(app, '/v1/auth/login', { method: 'POST', json: { email: user.email, password: secrets.password } }));
    await track(request(app, '/v1/users/me', { headers: { authorization: `Bearer ${user.accessToken}x` } }));

    const written = app.logs.text(mark);
    // The requests were logged (so the check below is not vacuous)...
    for (const id of ids) assert.ok(app.logs.byRequestId(id).length > 0, `request ${id} was not logged`);
    assert.ok(app.logs.since(mark).some((e) => ['error', 50].includes(e.level as string | number)), 'the failing handlers logged no error');
    // ...and none of the secrets made it.
    const forbidden = [
      ...Object.values(secrets),
      user.password,
      user.refreshToken,
      user.accessToken,
      user.accessToken.split('.')[2] ?? 'none',
      user.accessToken.split('.')[1] ?? 'none',
    ];
    for (const secret of forbidden) assert.ok(!written.includes(secret), `a secret reached the logs: ${secret}\n${written}`);
  });
});

describe('G3: request ids', () => {
  test('G3: a well-formed incoming X-Request-Id is kept, echoed, in the problem body and in the logs', async () => {
    const id = 'edge-7f3a9c2e-req.01:x_y';
    const res = await request(app, '/nowhere', { headers: { 'x-request-id': id } });
    assert.equal(res.headers.get('x-request-id'), id);
    assert.equal(res.body.requestId, id);
    assert.equal(requestLine(id).reqId, id);
  });

  const hostile = [
    'short',
    'has spaces in the id',
    '<script>alert(1)</script>',
    'a'.repeat(200),
    '../../../../etc/passwd',
    '{"level":"fatal"}',
    'id-with-ünïcödé-chars',
    "abc'; DROP TABLE logs; --",
  ];
  for (const value of hostile) {
    test(`G3: X-Request-Id ${JSON.stringify(value.slice(0, 30))} is replaced by a fresh id, which is echoed`, async () => {
      const mark = app.logs.lines.length;
      const res = await request(app, '/healthz', { headers: { 'x-request-id': Buffer.from(value, 'utf8').toString('latin1') } });
      const echoed = res.headers.get('x-request-id') ?? '';
      assert.notEqual(echoed, value);
      assert.match(echoed, UUID);
      assert.equal(requestLine(echoed).reqId, echoed);
      assert.ok(!app.logs.text(mark).includes(value), 'the rejected id must not be logged either');
    });
  }

  test('G3: without X-Request-Id every response gets a distinct generated id', async () => {
    const a = await request(app, '/healthz');
    const b = await request(app, '/healthz');
    assert.match(a.headers.get('x-request-id') ?? '', UUID);
    assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
  });
});

describe('G4: security events', () => {
  function assertEvent(name: string, mark: number, res: { headers: Headers }, mustNotContain: string[] = []): LogLine {
    const id = res.headers.get('x-request-id') ?? '';
    const events = app.logs.events(name, mark).filter((e) => e.reqId === id);
    assert.equal(events.length, 1, `expected one ${name} event for request ${id}:\n${app.logs.text(mark)}`);
    const event = events[0] as LogLine;
    const text = JSON.stringify(event);
    for (const secret of mustNotContain) assert.ok(!text.includes(secret), `${name} carries a secret: ${text}`);
    return event;
  }

  test('G4: login success and failure', async () => {
    let mark = app.logs.lines.length;
    const ok = await request(app, '/v1/auth/login', { method: 'POST', json: { email: user.email, password: user.password } });
    assert.equal(ok.status, 200);
    const success = assertEvent('auth.login.success', mark, ok, [user.password, String(ok.body.accessToken), String(ok.body.refreshToken)]);
    assert.equal(success.userId, user.id);
    mark = app.logs.lines.length;
    const guess = wrongPassword();
    const bad = await request(app, '/v1/auth/login', { method: 'POST', json: { email: user.email, password: guess } });
    assert.equal(bad.status, 401);
    assertEvent('auth.login.failure', mark, bad, [guess]);
  });

  test('G4: 401 and 403', async () => {
    let mark = app.logs.lines.length;
    const unauth = await request(app, '/v1/users/me', { headers: { authorization: 'Bearer a.b.c' } });
    assert.equal(unauth.status, 401);
    assertEvent('auth.unauthorized', mark, unauth, ['a.b.c']);
    mark = app.logs.lines.length;
    const forbidden = await request(app, '/v1/admin/users', { headers: user.headers });
    assert.equal(forbidden.status, 403);
    assertEvent('auth.forbidden', mark, forbidden, [user.accessToken]);
  });

  test('G4: validation rejection names fields, not values', async () => {
    const mark = app.logs.lines.length;
    const res = await request(app, '/v1/notes', { method: 'POST', headers: user.headers, json: { title: 'x'.repeat(201), body: 'value-not-to-log-93af' } });
    assert.equal(res.status, 400);
    assertEvent('validation.rejected', mark, res, ['value-not-to-log-93af', 'x'.repeat(201)]);
  });

  test('G4: rate-limit hit', async () => {
    const limited = await startApp({ RATE_LIMIT_GLOBAL_MAX: '2' });
    await request(limited, '/openapi.json');
    await request(limited, '/openapi.json');
    const res = await request(limited, '/openapi.json');
    assert.equal(res.status, 429);
    const id = res.headers.get('x-request-id') ?? '';
    assert.equal(limited.logs.events('rate_limit.exceeded').filter((e) => e.reqId === id).length, 1, limited.logs.text());
  });

  test('G4: refresh-token reuse', async () => {
    const victim = await newUser(app);
    const rotated = await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: victim.refreshToken } });
    assert.equal(rotated.status, 200);
    const mark = app.logs.lines.length;
    const reuse = await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: victim.refreshToken } });
    assert.equal(reuse.status, 401);
    const event = assertEvent('auth.refresh.reuse', mark, reuse, [victim.refreshToken, String(rotated.body.refreshToken)]);
    assert.equal(event.userId, victim.id);
  });

  test('G4: every security event is marked as one and has a level and a request id', async () => {
    const admin = await newUser(app);
    await createUserService(app.db).promoteToAdmin(admin.email);
    await request(app, '/v1/admin/users', { headers: admin.headers });
    const events = app.logs.entries.filter((e) => typeof e.event === 'string');
    assert.ok(events.length >= 5);
    for (const event of events) {
      assert.equal(typeof event.reqId, 'string', JSON.stringify(event));
      assert.ok(event.level !== undefined);
    }
  });
});
