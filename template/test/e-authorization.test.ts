// Baseline E: authorization (OWASP API1 object level, API5 function level, API3 property level).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT, decodeJwt } from 'jose';
import { PUBLIC_ROUTES } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/open.ts';
import { migrate } from '../src/db/migrate.ts';
import { createUserService } from '../src/features/users/service.ts';
import { closeAll, freshDatabase, sharedDatabase, startApp, type TestApp } from './support/app.ts';
import { FaultyDatabase } from './support/db-faults.ts';
import { configEnv, JWT_SECRET, PROJECT_DIR, testEnv, USING_POSTGRES } from './support/env.ts';
import { assertProblem, bearer, request } from './support/http.ts';
import { login, newUser, type TestUser } from './support/users.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let app: TestApp;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  app = await startApp();
  alice = await newUser(app, { displayName: 'Alice' });
  bob = await newUser(app, { displayName: 'Bob' });
});
after(closeAll);

describe('D8: no default accounts', () => {
  test('D8: a freshly migrated database holds no account, so no default user or admin exists', async () => {
    const fresh = await freshDatabase();
    try {
      await migrate(fresh.db);
      const { rows } = await fresh.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
      assert.equal(rows[0]?.n, 0);
    } finally {
      await fresh.db.close();
      await fresh.drop();
    }
  });
});

describe('E1: deny by default', () => {
  const EXPECTED_PUBLIC = [
    'GET /healthz',
    'GET /readyz',
    'GET /openapi.json',
    'POST /v1/auth/login',
    'POST /v1/auth/refresh',
    'POST /v1/auth/register',
  ].sort();

  test('E1: the public list is exactly health, docs, register, login and refresh', () => {
    assert.deepEqual([...PUBLIC_ROUTES].sort(), EXPECTED_PUBLIC);
    const publicInApp = app.routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.path}`).sort();
    assert.deepEqual(publicInApp, EXPECTED_PUBLIC);
  });

  test('E1: the route table lists every route Express actually serves (nothing mounted around it)', () => {
    const mounted = new Set<string>();
    const stack = (app.app as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router.stack;
    for (const layer of stack) {
      if (layer.route === undefined) continue;
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all') mounted.add(`${method.toUpperCase()} ${layer.route.path}`);
      }
    }
    const listed = new Set(app.routes.map((r) => `${r.method} ${r.path}`));
    assert.deepEqual([...mounted].sort(), [...listed].sort());
    assert.ok(listed.size >= 13, `only ${listed.size} routes listed`);
  });

  test('E1: every non-public route answers 401 without a token, with a bad token and with an expired one', async () => {
    const expired = await new SignJWT({ role: 'admin', sid: alice.id })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject(alice.id)
      .setIssuer(app.config.jwt.issuer)
      .setAudience(app.config.jwt.audience)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .setJti(crypto.randomUUID())
      .sign(new TextEncoder().encode(JWT_SECRET));
    const protectedRoutes = app.routes.filter((r) => r.access !== 'public');
    assert.ok(protectedRoutes.length >= 8, `only ${protectedRoutes.length} protected routes`);
    for (const route of protectedRoutes) {
      const path = route.path.replace(/:[a-zA-Z]+/g, crypto.randomUUID());
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}';
      for (const headers of [{}, bearer('garbage'), bearer(expired), { authorization: `Bearer ${alice.refreshToken}` }]) {
        const res = await request(app, path, {
          method: route.method,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body }),
        });
        assertProblem(res, 401);
      }
    }
  });

  test('E1: public routes answer without a token', async () => {
    assert.equal((await request(app, '/healthz')).status, 200);
    assert.equal((await request(app, '/readyz')).status, 200);
    assert.equal((await request(app, '/openapi.json')).status, 200);
    assert.equal((await request(app, '/v1/auth/login', { method: 'POST', json: { email: alice.email, password: alice.password } })).status, 200);
  });
});

describe('E2: object-level authorization', () => {
  test("E2: another user's note → 404 for GET, PATCH and DELETE, indistinguishable from a missing one", async () => {
    const note = await request<{ id: string }>(app, '/v1/notes', { method: 'POST', headers: alice.headers, json: { title: 'alice secret', body: 'for alice only' } });
    assert.equal(note.status, 201);
    const id = note.body.id;
    const missing = crypto.randomUUID();
    for (const [method, json] of [['GET', undefined], ['PATCH', { title: 'pwned' }], ['DELETE', undefined]] as const) {
      const theirs = await request(app, `/v1/notes/${id}`, { method, headers: bob.headers, ...(json === undefined ? {} : { json }) });
      const none = await request(app, `/v1/notes/${missing}`, { method, headers: bob.headers, ...(json === undefined ? {} : { json }) });
      assertProblem(theirs, 404);
      assertProblem(none, 404);
      assert.equal(theirs.body.detail, none.body.detail);
      assert.ok(!theirs.text.includes('alice secret'));
    }
    const still = await request<{ title: string; body: string }>(app, `/v1/notes/${id}`, { headers: alice.headers });
    assert.equal(still.status, 200);
    assert.equal(still.body.title, 'alice secret');
  });

  test("E2: lists only ever contain the caller's own notes", async () => {
    await request(app, '/v1/notes', { method: 'POST', headers: alice.headers, json: { title: 'alice list', body: 'a' } });
    await request(app, '/v1/notes', { method: 'POST', headers: bob.headers, json: { title: 'bob list', body: 'b' } });
    const bobs = await request<{ items: { title: string }[] }>(app, '/v1/notes?limit=100', { headers: bob.headers });
    assert.ok(bobs.body.items.length >= 1);
    assert.ok(bobs.body.items.every((n) => n.title.startsWith('bob')), JSON.stringify(bobs.body.items));
  });

  test("E2: a cursor made from someone else's note does not open their list", async () => {
    const note = await request<{ id: string; createdAt: string }>(app, '/v1/notes', { method: 'POST', headers: alice.headers, json: { title: 'alice cursor', body: 'a' } });
    const future = new Date(Date.parse(note.body.createdAt) + 60_000).getTime();
    const cursor = `${future}.${note.body.id}`;
    const res = await request<{ items: { title: string }[] }>(app, `/v1/notes?cursor=${cursor}`, { headers: bob.headers });
    assert.ok(res.status === 200 || res.status === 400, `status ${res.status}`);
    if (res.status === 200) assert.ok(res.body.items.every((n) => !n.title.startsWith('alice')));
  });

  test('E2: ownership is enforced in SQL: owner-scoped queries survive a foreign id in every statement', async () => {
    // The note exists (for Alice), so only an owner condition in the statement itself can refuse Bob.
    const note = await request<{ id: string }>(app, '/v1/notes', { method: 'POST', headers: alice.headers, json: { title: 'sql scoped', body: 'x' } });
    await request(app, `/v1/notes/${note.body.id}`, { method: 'DELETE', headers: bob.headers });
    const { db } = await sharedDatabase();
    const { rows } = await db.inner.query<{ n: number }>('SELECT count(*)::int AS n FROM notes WHERE id = $1', [note.body.id]);
    assert.equal(rows[0]?.n, 1);
  });
});

describe('E3: function-level authorization', () => {
  test('E3: a non-admin on an admin route → 403; no token → 401', async () => {
    assertProblem(await request(app, '/v1/admin/users', { headers: alice.headers }), 403);
    assertProblem(await request(app, '/v1/admin/users'), 401);
  });

  test('E3: a forged role claim does not make an admin (the role is checked server-side)', async () => {
    // Alice's own live session, so only the forged role can be what is refused.
    const token = await new SignJWT({ role: 'admin', sid: decodeJwt(alice.accessToken).sid })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject(alice.id)
      .setIssuer(app.config.jwt.issuer)
      .setAudience(app.config.jwt.audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(crypto.randomUUID())
      .sign(new TextEncoder().encode(JWT_SECRET));
    // Even with the signing key, a role claim is not trusted on its own for admin routes.
    assertProblem(await request(app, '/v1/admin/users', { headers: bearer(token) }), 403);
  });

  test('E3: promoted by the operator service → 200; demoted → 403 at once', async () => {
    const carol = await newUser(app, { displayName: 'Carol' });
    assertProblem(await request(app, '/v1/admin/users', { headers: carol.headers }), 403);
    const { db } = await sharedDatabase();
    const promoted = await createUserService(db).promoteToAdmin(carol.email);
    assert.equal(promoted?.role, 'admin');
    const res = await request<{ items: { email: string }[] }>(app, '/v1/admin/users?limit=100', { headers: carol.headers });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.items.some((u) => u.email === alice.email));
    await db.inner.query("UPDATE users SET role = 'user' WHERE email = $1", [carol.email]);
    assertProblem(await request(app, '/v1/admin/users', { headers: carol.headers }), 403);
  });

  test('E3: the operator command (npm run admin:create) promotes an existing user', { timeout: 90_000 }, async () => {
    if (USING_POSTGRES) {
      const { url } = await sharedDatabase();
      const dave = await newUser(app, { displayName: 'Dave' });
      assertProblem(await request(app, '/v1/admin/users', { headers: dave.headers }), 403);
      const run = await adminCommand({ DATABASE_URL: url }, [dave.email]);
      assert.equal(run.code, 0, run.output);
      assert.equal((await request(app, '/v1/admin/users', { headers: dave.headers })).status, 200);
      return;
    }
    // PGlite: the command and the app take turns on one database directory.
    const dir = mkdtempSync(join(tmpdir(), 'admin-cli-'));
    try {
      const config = loadConfig(testEnv({ PGLITE_DIR: dir }));
      const first = new FaultyDatabase(await openDatabase(config));
      await migrate(first);
      const before = await startApp({}, { db: first });
      const dave = await newUser(before, { displayName: 'Dave' });
      assertProblem(await request(before, '/v1/admin/users', { headers: dave.headers }), 403);
      await before.close();
      await first.close();

      const unknown = await adminCommand({ PGLITE_DIR: dir }, ['nobody-here@example.com']);
      assert.notEqual(unknown.code, 0);
      assert.doesNotMatch(unknown.output, /is now an admin/);

      const run = await adminCommand({ PGLITE_DIR: dir }, [dave.email]);
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, /admin/);

      const second = new FaultyDatabase(await openDatabase(config));
      try {
        const afterwards = await startApp({}, { db: second });
        const tokens = await login(afterwards, dave.email, dave.password);
        assert.equal((await request(afterwards, '/v1/admin/users', { headers: bearer(tokens.accessToken) })).status, 200);
        await afterwards.close();
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('E3: the operator command refuses bad input and unknown users', { timeout: 60_000 }, async () => {
    const usage = await adminCommand({}, []);
    assert.notEqual(usage.code, 0);
    const bad = await adminCommand({}, ['not-an-email']);
    assert.notEqual(bad.code, 0);
    if (USING_POSTGRES) {
      // (On PGlite the previous test runs the command for an unknown user against its database.)
      const unknown = await adminCommand({ DATABASE_URL: (await sharedDatabase()).url }, ['nobody-here@example.com']);
      assert.notEqual(unknown.code, 0);
      assert.doesNotMatch(unknown.output, /is now an admin/);
    }
  });
});

describe('E4: public identifiers are random', () => {
  test('E4: user and note ids are random (v4) UUIDs, never sequential', async () => {
    assert.match(alice.id, UUID_V4);
    assert.match(bob.id, UUID_V4);
    const ids: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const res = await request<{ id: string }>(app, '/v1/notes', { method: 'POST', headers: alice.headers, json: { title: `n${i}`, body: 'x' } });
      ids.push(res.body.id);
    }
    for (const id of ids) assert.match(id, UUID_V4);
    assert.equal(new Set(ids).size, ids.length);
    // Consecutive ids share no common prefix beyond chance: no counter, no time-ordered layout.
    const sharedPrefix = ids.slice(1).filter((id, i) => id.slice(0, 6) === ids[i]?.slice(0, 6)).length;
    assert.ok(sharedPrefix <= 1, `ids look sequential: ${ids.join(', ')}`);
  });

  test('E4: a numeric id is refused by validation (400), never looked up', async () => {
    for (const id of ['1', '0', '-1', '99999999999999999999']) {
      assertProblem(await request(app, `/v1/notes/${id}`, { headers: alice.headers }), 400);
    }
  });
});

async function adminCommand(env: Record<string, string | undefined>, args: string[]): Promise<{ code: number | null; output: string }> {
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries({ PATH: process.env.PATH, ...configEnv({ NODE_ENV: 'test', ...env }) })) if (value !== undefined) childEnv[key] = value;
  const child = spawn(process.execPath, ['src/features/admin/create-admin.ts', ...args], { cwd: PROJECT_DIR, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
  return { code, output };
}
