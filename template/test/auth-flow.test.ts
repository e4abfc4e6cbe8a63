// The HTTP contract, happy paths: register → login → me → notes CRUD and pages → refresh → password → logout.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeAll, startApp, type TestApp } from './support/app.ts';
import { bearer, request } from './support/http.ts';
import { newUser, strongPassword, type TestUser, uniqueEmail } from './support/users.ts';

interface Note {
  id: string;
  title: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

let app: TestApp;

before(async () => {
  app = await startApp();
});
after(closeAll);

describe('accounts and sessions', () => {
  test('register → 201 user; login → token pair; me → the same user', async () => {
    const email = uniqueEmail('flow');
    const password = strongPassword();
    const reg = await request(app, '/v1/auth/register', { method: 'POST', json: { email, password, displayName: '  Ada Lovelace ' } });
    assert.equal(reg.status, 201, reg.text);
    assert.equal(reg.body.email, email);
    assert.equal(reg.body.displayName, 'Ada Lovelace');
    assert.equal(reg.body.role, 'user');
    assert.ok(!Number.isNaN(Date.parse(String(reg.body.createdAt))));

    const tokens = await request(app, '/v1/auth/login', { method: 'POST', json: { email: email.toUpperCase(), password } });
    assert.equal(tokens.status, 200, 'e-mail addresses are case-insensitive');
    assert.equal(tokens.body.tokenType, 'Bearer');
    assert.equal(typeof tokens.body.accessToken, 'string');
    assert.equal(typeof tokens.body.refreshToken, 'string');
    assert.equal(tokens.body.expiresIn, 900);

    const me = await request(app, '/v1/users/me', { headers: bearer(String(tokens.body.accessToken)) });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, reg.body);
  });

  test('refresh → a new working pair; the old refresh token is spent', async () => {
    const user = await newUser(app);
    const next = await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } });
    assert.equal(next.status, 200);
    assert.notEqual(next.body.refreshToken, user.refreshToken);
    assert.equal((await request(app, '/v1/users/me', { headers: bearer(String(next.body.accessToken)) })).status, 200);
    const again = await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: String(next.body.refreshToken) } });
    assert.equal(again.status, 200, 'the rotated token works once');
  });

  test('password change → 204; new password logs in; logout → 204 and the session is over', async () => {
    const user = await newUser(app);
    const newPassword = strongPassword();
    const changed = await request(app, '/v1/auth/password', {
      method: 'POST',
      headers: user.headers,
      json: { currentPassword: user.password, newPassword },
    });
    assert.equal(changed.status, 204);
    assert.equal(changed.text, '');
    const relogin = await request(app, '/v1/auth/login', { method: 'POST', json: { email: user.email, password: newPassword } });
    assert.equal(relogin.status, 200);
    const refreshToken = String(relogin.body.refreshToken);
    const out = await request(app, '/v1/auth/logout', { method: 'POST', headers: bearer(String(relogin.body.accessToken)), json: { refreshToken } });
    assert.equal(out.status, 204);
    assert.equal((await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken } })).status, 401);
    // The access token ended with its session: a second logout with it is refused.
    assert.equal((await request(app, '/v1/auth/logout', { method: 'POST', headers: bearer(String(relogin.body.accessToken)), json: { refreshToken } })).status, 401);
  });

  test('registering the same e-mail twice → 409 problem', async () => {
    const user = await newUser(app);
    const res = await request(app, '/v1/auth/register', { method: 'POST', json: { email: user.email, password: strongPassword(), displayName: 'Twin' } });
    assert.equal(res.status, 409);
  });
});

describe('notes', () => {
  let owner: TestUser;

  before(async () => {
    owner = await newUser(app);
  });

  test('create → 201 with Location; get → 200; patch → 200 with a newer updatedAt; delete → 204; then 404', async () => {
    const created = await request<Note>(app, '/v1/notes', { method: 'POST', headers: owner.headers, json: { title: '  Groceries ', body: 'milk, eggs' } });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), `/v1/notes/${created.body.id}`);
    assert.equal(created.body.title, 'Groceries');
    assert.equal(created.body.body, 'milk, eggs');
    assert.equal(created.body.createdAt, created.body.updatedAt);

    const fetched = await request<Note>(app, `/v1/notes/${created.body.id}`, { headers: owner.headers });
    assert.equal(fetched.status, 200);
    assert.deepEqual(fetched.body, created.body);

    await new Promise((done) => setTimeout(done, 5));
    const patched = await request<Note>(app, `/v1/notes/${created.body.id}`, { method: 'PATCH', headers: owner.headers, json: { body: 'milk, eggs, bread' } });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.title, 'Groceries');
    assert.equal(patched.body.body, 'milk, eggs, bread');
    assert.ok(Date.parse(patched.body.updatedAt) > Date.parse(created.body.updatedAt));
    assert.equal(patched.body.createdAt, created.body.createdAt);

    const emptyPatch = await request(app, `/v1/notes/${created.body.id}`, { method: 'PATCH', headers: owner.headers, json: {} });
    assert.equal(emptyPatch.status, 400, 'a patch must change something');

    const deleted = await request(app, `/v1/notes/${created.body.id}`, { method: 'DELETE', headers: owner.headers });
    assert.equal(deleted.status, 204);
    assert.equal((await request(app, `/v1/notes/${created.body.id}`, { headers: owner.headers })).status, 404);
    assert.equal((await request(app, `/v1/notes/${created.body.id}`, { method: 'DELETE', headers: owner.headers })).status, 404);
  });

  test('list: newest first, paged by cursor without gaps or repeats, default page 20', async () => {
    const writer = await newUser(app);
    const titles: string[] = [];
    for (let i = 0; i < 25; i += 1) {
      const title = `note ${String(i).padStart(2, '0')}`;
      titles.push(title);
      assert.equal((await request(app, '/v1/notes', { method: 'POST', headers: writer.headers, json: { title, body: '' } })).status, 201);
    }
    const firstDefault = await request<{ items: Note[]; nextCursor: string | null }>(app, '/v1/notes', { headers: writer.headers });
    assert.equal(firstDefault.body.items.length, 20);

    const seen: Note[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/v1/notes?limit=10${cursor === null ? '' : `&cursor=${cursor}`}`;
      const page = await request<{ items: Note[]; nextCursor: string | null }>(app, path, { headers: writer.headers });
      assert.equal(page.status, 200, page.text);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    assert.equal(pages, 3);
    // Every note exactly once, newest first (notes created in the same millisecond may come in either order).
    assert.deepEqual(seen.map((n) => n.title).sort(), [...titles].sort());
    for (let i = 1; i < seen.length; i += 1) {
      assert.ok(Date.parse(seen[i - 1]?.createdAt ?? '') >= Date.parse(seen[i]?.createdAt ?? ''), 'not newest first');
    }
  });

  test('an empty list is a 200 with no items and no cursor', async () => {
    const fresh = await newUser(app);
    const res = await request<{ items: Note[]; nextCursor: string | null }>(app, '/v1/notes', { headers: fresh.headers });
    assert.deepEqual(res.body, { items: [], nextCursor: null });
  });
});
