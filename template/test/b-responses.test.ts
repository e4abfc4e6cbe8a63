// Baseline B: response headers, the one error shape, and what responses may contain (OWASP API8, API3).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createUserService } from '../src/features/users/service.ts';
import { shareApp, startApp, type TestApp } from './support/app.ts';
import { JWT_SECRET } from './support/env.ts';
import { assertProblem, type JsonResponse, request } from './support/http.ts';
import { newUser, strongPassword, type TestUser } from './support/users.ts';

let app: TestApp;
let user: TestUser;

shareApp((shared) => ({ app, user } = shared));

function assertSecurityHeaders(res: { status: number; headers: Headers }, label: string): void {
  const h = res.headers;
  const where = `${label} (${res.status})`;
  assert.equal(h.get('x-content-type-options'), 'nosniff', where);
  const hsts = /max-age=(\d+)/.exec(h.get('strict-transport-security') ?? '');
  assert.ok(hsts !== null && Number(hsts[1]) >= 31_536_000, `${where}: HSTS ${h.get('strict-transport-security')}`);
  const csp = (h.get('content-security-policy') ?? '').split(';').map((d) => d.trim()).filter(Boolean);
  assert.ok(csp.includes("default-src 'none'"), `${where}: CSP ${h.get('content-security-policy')}`);
  assert.ok(csp.includes("frame-ancestors 'none'"), `${where}: CSP ${h.get('content-security-policy')}`);
  assert.equal(h.get('referrer-policy'), 'no-referrer', where);
  assert.equal(h.get('x-powered-by'), null, where);
}

describe('B1: security headers on every response', () => {
  test('B1: 200 (public and authenticated)', async () => {
    const health = await request(app, '/healthz');
    assert.equal(health.status, 200);
    assertSecurityHeaders(health, 'GET /healthz');
    const me = await request(app, '/v1/users/me', { headers: user.headers });
    assert.equal(me.status, 200);
    assertSecurityHeaders(me, 'GET /v1/users/me');
  });

  test('B1: 404, 401, 405, 400, 413, 415', async () => {
    const cases: [string, JsonResponse, number][] = [
      ['unknown path', await request(app, '/nowhere'), 404],
      ['no token', await request(app, '/v1/notes'), 401],
      ['wrong method', await request(app, '/healthz', { method: 'PUT' }), 405],
      ['bad JSON', await request(app, '/v1/notes', { method: 'POST', headers: { ...user.headers, 'content-type': 'application/json' }, body: '{' }), 400],
      [
        'too large',
        await request(app, '/v1/notes', { method: 'POST', headers: user.headers, json: { title: 't', body: 'x'.repeat(200 * 1024) } }),
        413,
      ],
      ['wrong type', await request(app, '/v1/notes', { method: 'POST', headers: { ...user.headers, 'content-type': 'text/plain' }, body: 'x' }), 415],
      ['bad escape in path', await request(app, '/v1/notes/%E0%A4%A', { headers: user.headers }), 400],
    ];
    for (const [label, res, status] of cases) {
      assert.equal(res.status, status, `${label}: ${res.text}`);
      assertSecurityHeaders(res, label);
    }
  });

  test('B1: 429 from the rate limiter', async () => {
    const limited = await startApp({ RATE_LIMIT_GLOBAL_MAX: '1' });
    await request(limited, '/openapi.json');
    const res = await request(limited, '/openapi.json');
    assert.equal(res.status, 429);
    assertSecurityHeaders(res, '429');
  });

  test('B1: 500 from a handler whose database call fails', async () => {
    app.db.failing = true;
    const res = await request(app, '/v1/notes', { headers: user.headers });
    assert.ok(res.status >= 500, `expected a 5xx, got ${res.status}`);
    assertSecurityHeaders(res, 'handler failure');
  });
});

describe('B2: no caching of authenticated responses', () => {
  test('B2: authenticated GETs and token responses carry Cache-Control: no-store', async () => {
    const note = await request<{ id: string }>(app, '/v1/notes', { method: 'POST', headers: user.headers, json: { title: 'cache', body: 'b' } });
    const responses = [
      await request(app, '/v1/users/me', { headers: user.headers }),
      await request(app, '/v1/notes', { headers: user.headers }),
      await request(app, `/v1/notes/${note.body.id}`, { headers: user.headers }),
      note,
      await request(app, '/v1/auth/login', { method: 'POST', json: { email: user.email, password: user.password } }),
    ];
    for (const res of responses) {
      assert.ok(res.status < 300, res.text);
      assert.match(res.headers.get('cache-control') ?? '', /\bno-store\b/);
    }
  });
});

describe('B3: one problem+json shape, no internals, whatever NODE_ENV is', () => {
  // NODE_ENV unset means production for this service; the database URL is never dialled here
  // (the app gets this file's database), it only satisfies production's configuration rules.
  const environments: [string, Record<string, string | undefined>][] = [
    ['test', {}],
    ['development', { NODE_ENV: 'development' }],
    ['production', { NODE_ENV: 'production', DATABASE_URL: 'postgres://app@127.0.0.1:1/app' }],
    ['unset', { NODE_ENV: undefined, DATABASE_URL: 'postgres://app@127.0.0.1:1/app' }],
  ];
  for (const [name, env] of environments) {
    test(`B3: NODE_ENV ${name}: 400/401/404/405/413/415/500 share the shape and leak nothing`, async () => {
      const target = await startApp(env);
      const owner = await newUser(target);
      const json = { ...owner.headers, 'content-type': 'application/json' };
      const cases: [JsonResponse, number][] = [
        [await request(target, '/v1/notes', { method: 'POST', headers: json, body: '{"title": tru' }), 400],
        [await request(target, '/v1/notes', { method: 'POST', headers: json, json: { title: 1 } }), 400],
        [await request(target, '/v1/notes', { headers: { authorization: 'Bearer not.a.token' } }), 401],
        [await request(target, '/v1/notes/00000000-0000-4000-8000-000000000000', { headers: owner.headers }), 404],
        [await request(target, '/nowhere/at/all'), 404],
        [await request(target, '/v1/notes', { method: 'PUT' }), 405],
        [await request(target, '/v1/notes', { method: 'POST', headers: json, json: { title: 't', body: 'x'.repeat(200 * 1024) } }), 413],
        [await request(target, '/v1/notes', { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: '<x/>' }), 415],
      ];
      target.db.failing = true;
      try {
        const failed = await request(target, '/v1/notes', { headers: owner.headers });
        cases.push([failed, failed.status >= 500 ? failed.status : 500]);
        const failedLogin = await request(target, '/v1/auth/login', { method: 'POST', json: { email: owner.email, password: owner.password } });
        cases.push([failedLogin, failedLogin.status >= 500 ? failedLogin.status : 500]);
      } finally {
        target.db.failing = false;
      }
      for (const [res, status] of cases) {
        assertProblem(res, status);
        assert.doesNotMatch(res.text, /password_hash|users|ECONNREFUSED|client\.js|stack/i);
        assert.ok(!res.text.includes(JWT_SECRET));
      }
    });
  }

  test('B3: a request id is in every problem and matches X-Request-Id', async () => {
    const res = await request(app, '/nowhere', { headers: { 'x-request-id': 'trace-abc-12345' } });
    assertProblem(res, 404);
    assert.equal(res.body.requestId, 'trace-abc-12345');
  });
});

describe('B4: responses are shaped, never raw rows', () => {
  const USER_KEYS = ['createdAt', 'displayName', 'email', 'id', 'role'];
  const NOTE_KEYS = ['body', 'createdAt', 'id', 'title', 'updatedAt'];

  test('B4: register and /users/me return exactly the public user fields', async () => {
    const email = `shape-${Date.now()}@example.com`;
    const reg = await request(app, '/v1/auth/register', {
      method: 'POST',
      json: { email, password: strongPassword(), displayName: 'Shape' },
    });
    assert.equal(reg.status, 201);
    assert.deepEqual(Object.keys(reg.body).sort(), USER_KEYS);
    assert.equal(reg.body.role, 'user');
    const me = await request(app, '/v1/users/me', { headers: user.headers });
    assert.deepEqual(Object.keys(me.body).sort(), USER_KEYS);
    for (const res of [reg, me]) assert.doesNotMatch(res.text, /argon2|password|hash|updated_at|owner/i);
  });

  test('B4: notes carry exactly their public fields (no owner id)', async () => {
    const created = await request(app, '/v1/notes', { method: 'POST', headers: user.headers, json: { title: 'shape', body: 'b' } });
    assert.deepEqual(Object.keys(created.body).sort(), NOTE_KEYS);
    const list = await request<{ items: Record<string, unknown>[]; nextCursor: unknown }>(app, '/v1/notes', { headers: user.headers });
    assert.deepEqual(Object.keys(list.body).sort(), ['items', 'nextCursor']);
    for (const item of list.body.items) assert.deepEqual(Object.keys(item).sort(), NOTE_KEYS);
    assert.ok(!list.text.includes(user.id), 'a note list must not carry the owner id');
  });

  test('B4: the token response has exactly the token fields', async () => {
    const res = await request(app, '/v1/auth/login', { method: 'POST', json: { email: user.email, password: user.password } });
    assert.deepEqual(Object.keys(res.body).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
    assert.equal(res.body.tokenType, 'Bearer');
  });

  test('B4: the admin user list carries no hashes, tokens or other users\' secrets', async () => {
    const admin = await newUser(app);
    await createUserService(app.db).promoteToAdmin(admin.email);
    const victim = await newUser(app);
    const res = await request<{ items: Record<string, unknown>[] }>(app, '/v1/admin/users?limit=100', { headers: admin.headers });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.items.length >= 2);
    for (const item of res.body.items) assert.deepEqual(Object.keys(item).sort(), USER_KEYS);
    assert.doesNotMatch(res.text, /\$argon2|password|token/i);
    assert.ok(!res.text.includes(victim.password));
    assert.ok(!res.text.includes(victim.refreshToken));
    assert.ok(!res.text.includes(victim.accessToken));
  });
});
