// Baseline A: the request boundary (OWASP API4, API8). Every test talks HTTP to the real app.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import { shareApp, startApp, type TestApp } from './support/app.ts';
import { configEnv, NEEDS_REDIS } from './support/env.ts';
import { assertProblem, rawRequest, request, slowHeaders } from './support/http.ts';
import { serverEnv, spawnServer } from './support/processes.ts';
import { newUser, strongPassword, type TestUser, wrongPassword } from './support/users.ts';

let app: TestApp;
let user: TestUser;

shareApp((shared) => ({ app, user } = shared));

function jsonHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', ...user.headers, ...extra };
}

describe('A1: body size limit', () => {
  test('A1: JSON body over the default 100 kB limit → 413 problem+json', async () => {
    const body = JSON.stringify({ title: 'big', body: 'x'.repeat(150 * 1024) });
    const res = await request(app, '/v1/notes', { method: 'POST', headers: jsonHeaders(), body });
    assertProblem(res, 413);
  });

  test('A1: over the limit on a public route (login) → 413, before any credential check', async () => {
    const body = JSON.stringify({ email: 'a@example.com', password: 'p'.repeat(200 * 1024) });
    const res = await request(app, '/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assertProblem(res, 413);
  });

  test('A1: a chunked body (no Content-Length) over the limit → 413', async () => {
    const chunk = `{"title":"t","body":"${'y'.repeat(120 * 1024)}"}`;
    const payload =
      `POST /v1/notes HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${user.accessToken}\r\n` +
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
      `${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`;
    const res = await rawRequest(app.port, payload);
    assert.equal(res.status, 413);
    assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
  });

  test('A1: the limit is configurable (BODY_LIMIT=2kb): 3 kB → 413, 1 kB → accepted', async () => {
    const small = await startApp({ BODY_LIMIT: '2kb' });
    const owner = await newUser(small);
    const headers = { 'content-type': 'application/json', ...owner.headers };
    const tooBig = await request(small, '/v1/notes', { method: 'POST', headers, json: { title: 't', body: 'z'.repeat(3 * 1024) } });
    assertProblem(tooBig, 413);
    const fits = await request(small, '/v1/notes', { method: 'POST', headers, json: { title: 't', body: 'z'.repeat(1024) } });
    assert.equal(fits.status, 201);
  });
});

describe('A2: only application/json bodies', () => {
  const bodies: [string, string][] = [
    ['text/plain', '{"title":"t","body":"b"}'],
    ['application/x-www-form-urlencoded', 'title=t&body=b'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n--x--\r\n'],
    ['application/xml', '<note><title>t</title></note>'],
    ['application/json-patch+json', '[{"op":"add","path":"/title","value":"t"}]'],
    ['application/jsonx', '{"title":"t","body":"b"}'],
  ];
  for (const [type, body] of bodies) {
    test(`A2: Content-Type ${type} → 415, never parsed`, async () => {
      const res = await request(app, '/v1/notes', { method: 'POST', headers: { ...user.headers, 'content-type': type }, body });
      assertProblem(res, 415);
      // Not stored either: the note list is unchanged by any of these.
      const list = await request<{ items: { title: string }[] }>(app, '/v1/notes', { headers: user.headers });
      assert.equal(list.body.items.filter((n) => n.title === 't').length, 0);
    });
  }

  test('A2: a body without any Content-Type → 415', async () => {
    const payload =
      `POST /v1/notes HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${user.accessToken}\r\n` +
      'Content-Length: 24\r\nConnection: close\r\n\r\n{"title":"t","body":"b"}';
    const res = await rawRequest(app.port, payload);
    assert.equal(res.status, 415);
  });

  test('A2: a credential endpoint with a text/plain body → 415 (no login attempt is made)', async () => {
    const mark = app.logs.lines.length;
    const res = await request(app, '/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    assertProblem(res, 415);
    assert.equal(app.logs.events('auth.login.success', mark).length, 0);
    assert.equal(app.logs.events('auth.login.failure', mark).length, 0);
  });

  test('A2: application/json with a charset parameter is accepted', async () => {
    const res = await request(app, '/v1/notes', {
      method: 'POST',
      headers: { ...user.headers, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ title: 'charset', body: 'ok' }),
    });
    assert.equal(res.status, 201);
  });
});

describe('A3: malformed JSON', () => {
  const malformed = ['{"title": "t", "body": ', "{'title': 't'}", '{"title":"t"} trailing', '{"title":"t",}', '\u0000\u0001', 'nul', '"just a string"', '42'];
  for (const body of malformed) {
    test(`A3: malformed JSON ${JSON.stringify(body)} → 400 without parser details`, async () => {
      const res = await request(app, '/v1/notes', { method: 'POST', headers: jsonHeaders(), body });
      assertProblem(res, 400);
      assert.doesNotMatch(res.text, /position|Unexpected|token|JSON\.parse|line \d|column \d/i);
    });
  }

  test('A3: a JSON array where an object is expected → 400 from validation', async () => {
    const res = await request(app, '/v1/notes', { method: 'POST', headers: jsonHeaders(), body: '[1,2,3]' });
    assertProblem(res, 400);
  });
});

describe('A4: prototype pollution', () => {
  const payloads = [
    '{"__proto__":{"polluted":"yes"},"title":"t","body":"b"}',
    '{"constructor":{"prototype":{"polluted":"yes"}},"title":"t","body":"b"}',
    '{"title":"t","body":"b","nested":{"deeper":{"__proto__":{"polluted":"yes"}}}}',
    '{"title":"t","body":"b","list":[{"__proto__":{"polluted":"yes"}}]}',
    '{"prototype":{"polluted":"yes"},"title":"t","body":"b"}',
  ];
  for (const body of payloads) {
    test(`A4: ${body.slice(0, 60)} → 400 and Object.prototype stays clean`, async () => {
      for (const path of ['/v1/notes', '/v1/auth/register', '/v1/auth/login']) {
        const res = await request(app, path, { method: 'POST', headers: jsonHeaders(), body });
        assertProblem(res, 400);
      }
      assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }

  test('A4: prototype keys in the query string are refused or ignored, never merged', async () => {
    for (const query of ['__proto__[polluted]=yes', 'constructor[prototype][polluted]=yes', '__proto__.polluted=yes', 'a[__proto__][polluted]=yes']) {
      const res = await request(app, `/v1/notes?${query}`, { headers: user.headers });
      assert.ok(res.status === 400 || res.status === 200, `${query} → ${res.status}`);
      assert.notEqual(res.status, 500);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('A4: deeply nested JSON → 400, process stays up', async () => {
    const body = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const res = await request(app, '/v1/notes', { method: 'POST', headers: jsonHeaders(), body });
    assertProblem(res, 400);
    assert.equal((await request(app, '/healthz')).status, 200);
  });
});

describe('A5: hostile query strings', () => {
  async function timed(path: string) {
    const started = performance.now();
    const res = await request(app, path, { headers: user.headers });
    return { res, ms: performance.now() - started };
  }

  test('A5: 1,000+ parameters → 400 fast', async () => {
    const query = Array.from({ length: 1500 }, (_, i) => `p${i}=${i}`).join('&');
    const { res, ms } = await timed(`/v1/notes?${query}`);
    assertProblem(res, 400);
    assert.ok(ms < 1000, `took ${ms} ms`);
  });

  test('A5: 1,500 repetitions of one parameter → 400 fast', async () => {
    const { res, ms } = await timed(`/v1/notes?${'limit=1&'.repeat(1500)}`);
    assertProblem(res, 400);
    assert.ok(ms < 1000, `took ${ms} ms`);
  });

  test('A5: a query string beyond the header size limit is refused (414/431), never a 500', async () => {
    const { res, ms } = await timed(`/v1/notes?${'p=1&'.repeat(20_000)}`);
    assert.ok(res.status === 414 || res.status === 431 || res.status === 400, `status ${res.status}`);
    assert.ok(ms < 1000, `took ${ms} ms`);
    assert.equal((await request(app, '/healthz')).status, 200);
  });

  test('A5: deep brackets (a[b][c]… × 500) → 400 or ignored, fast', async () => {
    const { res, ms } = await timed(`/v1/notes?a${'[x]'.repeat(500)}=1`);
    assert.ok(res.status === 400 || res.status === 200, `status ${res.status}`);
    assert.ok(ms < 1000, `took ${ms} ms`);
  });

  test('A5: a[__proto__]= and array-index tricks → 400 or ignored; the process stays up', async () => {
    for (const query of ['a[__proto__]=', 'a[]=1&a[]=2', 'a[99999999]=1', 'a[0][b][1][c]=1', '%zz=1', 'limit=%E0%A4%A']) {
      const { res } = await timed(`/v1/notes?${query}`);
      assert.ok(res.status === 400 || res.status === 200, `${query} → ${res.status}`);
    }
    assert.equal((await request(app, '/healthz')).status, 200);
  });
});

describe('A6: duplicated scalar parameters', () => {
  test('A6: ?limit=1&limit=2 → 400 from validation naming the parameter', async () => {
    const res = await request<{ errors?: { location: string; path: string }[] }>(app, '/v1/notes?limit=1&limit=2', { headers: user.headers });
    assertProblem(res, 400);
    assert.ok(res.body.errors?.some((e) => e.location === 'query' && e.path.startsWith('limit')), res.text);
  });

  test('A6: duplicated cursor → 400, never 500', async () => {
    const res = await request(app, '/v1/notes?cursor=a&cursor=b', { headers: user.headers });
    assertProblem(res, 400);
  });
});

describe('A7: methods and unknown paths', () => {
  test('A7: PUT on /v1/notes → 405 with Allow listing the served methods', async () => {
    const res = await request(app, '/v1/notes', { method: 'PUT', headers: jsonHeaders(), json: { title: 't', body: 'b' } });
    assertProblem(res, 405);
    const allow = (res.headers.get('allow') ?? '').split(',').map((m) => m.trim());
    assert.ok(allow.includes('GET') && allow.includes('POST'), `Allow: ${allow.join(',')}`);
    assert.ok(!allow.includes('PUT'));
  });

  test('A7: DELETE /healthz → 405 with Allow', async () => {
    const res = await request(app, '/healthz', { method: 'DELETE' });
    assertProblem(res, 405);
    assert.match(res.headers.get('allow') ?? '', /GET/);
  });

  for (const path of ['/healthz', '/v1/notes', '/v1/users/me', '/nowhere']) {
    test(`A7: TRACE ${path} is never 200 and never echoes the request`, async () => {
      const res = await rawRequest(
        app.port,
        `TRACE ${path} HTTP/1.1\r\nHost: localhost\r\nCookie: trace-secret=abc123\r\nConnection: close\r\n\r\n`,
      );
      assert.notEqual(res.status, 200);
      assert.ok(res.status === 405 || res.status === 404, `TRACE ${path} → ${res.status}`);
      assert.doesNotMatch(res.body, /trace-secret/);
    });
  }

  test('A7: unknown path → 404 problem+json', async () => {
    for (const path of ['/nowhere', '/v1/notes/extra/segments', '/v2/notes', '/.env', '/v1/admin']) {
      const res = await request(app, path, { headers: user.headers });
      assertProblem(res, 404);
    }
  });
});

describe('A8: strict request schemas', () => {
  test('A8: register with an unknown field (role: admin) → 400 and no account is made', async () => {
    const email = `mass-${Date.now()}@example.com`;
    const password = strongPassword();
    const res = await request(app, '/v1/auth/register', {
      method: 'POST',
      json: { email, password, displayName: 'Mallory', role: 'admin' },
    });
    assertProblem(res, 400);
    const login = await request(app, '/v1/auth/login', { method: 'POST', json: { email, password } });
    assert.equal(login.status, 401);
  });

  const extras: [string, string, Record<string, unknown>][] = [
    ['POST', '/v1/auth/login', { email: 'a@example.com', password: wrongPassword(), remember: true }],
    ['POST', '/v1/auth/refresh', { refreshToken: 'x'.repeat(43), userId: '1' }],
    ['POST', '/v1/notes', { title: 't', body: 'b', ownerId: '00000000-0000-4000-8000-000000000000' }],
    ['POST', '/v1/notes', { title: 't', body: 'b', id: '00000000-0000-4000-8000-000000000000' }],
    ['POST', '/v1/auth/password', { currentPassword: 'x', newPassword: 'y', role: 'admin' }],
    ['POST', '/v1/auth/logout', { refreshToken: 'x'.repeat(43), everywhere: true }],
  ];
  for (const [method, path, body] of extras) {
    test(`A8: ${method} ${path} with an unknown field → 400`, async () => {
      const res = await request<{ errors?: unknown[] }>(app, path, { method, headers: jsonHeaders(), json: body });
      assertProblem(res, 400);
      assert.ok(Array.isArray(res.body.errors), res.text);
    });
  }

  test('A8: PATCH a note with owner/timestamps → 400 and the note is unchanged', async () => {
    const note = await request<{ id: string }>(app, '/v1/notes', { method: 'POST', headers: jsonHeaders(), json: { title: 'mine', body: 'b' } });
    for (const patch of [{ ownerId: '00000000-0000-4000-8000-000000000000' }, { createdAt: '2000-01-01T00:00:00.000Z' }, { title: 'x', id: 'y' }]) {
      const res = await request(app, `/v1/notes/${note.body.id}`, { method: 'PATCH', headers: jsonHeaders(), json: patch });
      assertProblem(res, 400);
    }
    const after = await request<{ title: string }>(app, `/v1/notes/${note.body.id}`, { headers: user.headers });
    assert.equal(after.body.title, 'mine');
  });

  test('A8: unknown query parameter → 400', async () => {
    assertProblem(await request(app, '/v1/notes?owner=someone', { headers: user.headers }), 400);
  });

  test('A8: string lengths are bounded (title 200, body 10000, displayName 100, email 254, password)', async () => {
    const ok = await request(app, '/v1/notes', { method: 'POST', headers: jsonHeaders(), json: { title: 't'.repeat(200), body: 'b'.repeat(10_000) } });
    assert.equal(ok.status, 201);
    assertProblem(await request(app, '/v1/notes', { method: 'POST', headers: jsonHeaders(), json: { title: 't'.repeat(201), body: 'b' } }), 400);
    assertProblem(await request(app, '/v1/notes', { method: 'POST', headers: jsonHeaders(), json: { title: 't', body: 'b'.repeat(10_001) } }), 400);
    const longName = { email: `n-${Date.now()}@example.com`, password: strongPassword(), displayName: 'd'.repeat(101) };
    assertProblem(await request(app, '/v1/auth/register', { method: 'POST', json: longName }), 400);
    const longEmail = { email: `${'e'.repeat(250)}@example.com`, password: strongPassword(), displayName: 'd' };
    assertProblem(await request(app, '/v1/auth/register', { method: 'POST', json: longEmail }), 400);
    const hugePassword = { email: `p-${Date.now()}@example.com`, password: 'q'.repeat(4096), displayName: 'd' };
    assertProblem(await request(app, '/v1/auth/register', { method: 'POST', json: hugePassword }), 400);
  });

  test('A8: wrong types (number, array, object, null where strings go) → 400', async () => {
    for (const title of [42, ['a'], { a: 1 }, null, true]) {
      assertProblem(await request(app, '/v1/notes', { method: 'POST', headers: jsonHeaders(), json: { title, body: 'b' } }), 400);
    }
  });

  test('A8: list page size is capped at 100 and bounded below', async () => {
    assert.equal((await request(app, '/v1/notes?limit=100', { headers: user.headers })).status, 200);
    for (const limit of ['101', '1000', '0', '-1', '1.5', '1e2', 'abc', '']) {
      const res = await request(app, `/v1/notes?limit=${limit}`, { headers: user.headers });
      if (limit === '') assert.ok(res.status === 200 || res.status === 400);
      else assertProblem(res, 400);
    }
  });
});

describe('A9: server timeouts (the real server process)', () => {
  test('A9: on by default (headers 10 s < request 30 s; keep-alive 5 s), and 0 (no timeout) is refused', () => {
    const { server } = loadConfig(configEnv({ NODE_ENV: 'test' }));
    assert.deepEqual([server.headersTimeoutMs, server.requestTimeoutMs, server.keepAliveTimeoutMs], [10_000, 30_000, 5_000]);
    for (const variable of ['HEADERS_TIMEOUT_SECONDS', 'REQUEST_TIMEOUT_SECONDS', 'KEEP_ALIVE_TIMEOUT_SECONDS']) {
      assert.throws(() => loadConfig(configEnv({ NODE_ENV: 'test', [variable]: '0' })), (err: unknown) => err instanceof ConfigError && err.variables.includes(variable));
    }
    assert.throws(
      () => loadConfig(configEnv({ NODE_ENV: 'test', HEADERS_TIMEOUT_SECONDS: '30', REQUEST_TIMEOUT_SECONDS: '30' })),
      (err: unknown) => err instanceof ConfigError && err.variables.includes('HEADERS_TIMEOUT_SECONDS'),
    );
  });

  test('A9: slow headers, a slow body and idle keep-alive sockets are all cut off', { timeout: 90_000, skip: NEEDS_REDIS }, async () => {
    const server = await spawnServer(serverEnv({ HEADERS_TIMEOUT_SECONDS: '1', REQUEST_TIMEOUT_SECONDS: '2', KEEP_ALIVE_TIMEOUT_SECONDS: '1' }));
    try {
      const port = server.port;
      assert.ok(port !== undefined, `server did not start:\n${server.stdout.join('\n')}\n${server.stderr.join('\n')}`);

      // Slowloris: one header line every 200 ms, a header section that would otherwise never end.
      const headers = await slowHeaders(port, 200, 12_000);
      assert.ok(headers.cutOffAfterMs !== undefined, 'the server kept a never-ending header section open for 12 s');
      assert.ok(headers.cutOffAfterMs < 6000, `slow headers cut off only after ${headers.cutOffAfterMs} ms`);
      assert.doesNotMatch(headers.response, /^HTTP\/1\.1 200/);

      // A body trickling in one byte every 200 ms.
      const slowBody = await socketLifetime(port, 'POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{', ' ', 12_000);
      assert.ok(slowBody !== undefined, 'a body trickling in for 12 s was never cut off');
      assert.ok(slowBody < 8000, `slow body cut off only after ${slowBody} ms`);

      // A keep-alive connection left idle after its response.
      const idle = await socketLifetime(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n', undefined, 10_000);
      assert.ok(idle !== undefined, 'an idle keep-alive connection stayed open for 10 s');
      assert.ok(idle < 6000, `idle keep-alive closed only after ${idle} ms`);
    } finally {
      await server.stop();
    }
  });
});

/** Opens a socket, sends `first`, then `drip` every 200 ms (if given); resolves with how long the server kept it open. */
function socketLifetime(port: number, first: string, drip: string | undefined, giveUpMs: number): Promise<number | undefined> {
  return new Promise((resolvePromise) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(first));
    const timer = drip === undefined ? undefined : setInterval(() => socket.write(drip), 200);
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      resolvePromise(undefined);
    }, giveUpMs);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolvePromise(performance.now() - started);
    });
  });
}
