// Baseline D: authentication (OWASP API2): password storage, login, throttling, tokens, sessions.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { ConfigError, loadConfig } from '../src/config.ts';
import { closeAll, startApp, type TestApp } from './support/app.ts';
import { configEnv, JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, PROJECT_DIR } from './support/env.ts';
import { assertProblem, bearer, type JsonResponse, request } from './support/http.ts';
import { serverEnv, spawnServer, waitForExit } from './support/processes.ts';
import { median, sleep } from './support/timing.ts';
import { login, newUser, register, strongPassword, type TestUser, uniqueEmail, wrongPassword } from './support/users.ts';

let app: TestApp;

before(async () => {
  app = await startApp();
});
after(closeAll);

async function storedHash(email: string): Promise<string> {
  const { rows } = await app.db.inner.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE email = $1', [email]);
  const hash = rows[0]?.password_hash;
  assert.ok(hash !== undefined, `no stored user ${email}`);
  return hash;
}

/** Every text value of every table, to prove that a secret is stored nowhere in clear. */
async function everyStoredValue(): Promise<string> {
  const { rows: tables } = await app.db.inner.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
  );
  const dumps: string[] = [];
  for (const { table_name: table } of tables) {
    assert.match(table, /^[a-z_][a-z0-9_]*$/);
    // Identifiers cannot be bound; `table` comes from the catalogue and was checked just above.
    const { rows } = await app.db.inner.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table}" t`);
    dumps.push(...rows.map((r) => r.row));
  }
  return dumps.join('\n');
}

describe('D1: password storage', () => {
  test('D1: argon2id, m=19456 KiB, t=2, p=1, with a 16-byte salt; equal passwords hash differently', async () => {
    const password = strongPassword();
    const a = await register(app, { password });
    const b = await register(app, { password });
    const hashA = await storedHash(a.email);
    const hashB = await storedHash(b.email);
    // PHC string: $argon2id$v=19$<params>$<salt>$<hash>; libraries differ in the order of m, t and p.
    const [, algorithm, version, params, salt, digest] = hashA.split('$');
    assert.equal(algorithm, 'argon2id');
    assert.equal(version, 'v=19');
    assert.deepEqual(Object.fromEntries((params ?? '').split(',').map((p) => p.split('='))), { m: '19456', t: '2', p: '1' });
    assert.ok(Buffer.from(salt ?? '', 'base64').length >= 16, 'a salt of at least 16 bytes');
    assert.ok(Buffer.from(digest ?? '', 'base64').length >= 32, 'a 32-byte hash');
    assert.notEqual(hashA, hashB, 'same password, same hash: no salt');
    assert.notEqual(hashA.split('$')[4], hashB.split('$')[4], 'salts must differ');
    const stored = await everyStoredValue();
    assert.ok(!stored.includes(password), 'the clear-text password is stored somewhere');
  });

  test('D1: hashing concurrency is bounded: a login flood is shed with 503 + Retry-After, never piles up', { timeout: 60_000 }, async () => {
    const bounded = await startApp({ HASH_CONCURRENCY: '1', HASH_QUEUE_MAX: '2' });
    const victim = await newUser(bounded);
    const flood = await Promise.all(
      Array.from({ length: 16 }, () => request(bounded, '/v1/auth/login', { method: 'POST', json: { email: victim.email, password: wrongPassword() } })),
    );
    const statuses = flood.map((r) => r.status);
    assert.ok(statuses.every((s) => s === 401 || s === 503), `statuses: ${statuses.join(',')}`);
    const shed = flood.filter((r) => r.status === 503);
    assert.ok(shed.length > 0, 'with 1 hashing slot and a queue of 2, some of 16 simultaneous logins must be refused');
    for (const res of shed) {
      assertProblem(res, 503);
      assert.match(res.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
    }
  });
});

describe('D3: no account enumeration', () => {
  function comparable(res: JsonResponse): unknown {
    const { requestId: _id, instance: _instance, ...rest } = res.body;
    return { status: res.status, body: rest, auth: res.headers.get('www-authenticate'), type: res.headers.get('content-type') };
  }

  test('D3: unknown e-mail and wrong password → the same status and body', async () => {
    const user = await newUser(app);
    const unknown = await request(app, '/v1/auth/login', { method: 'POST', json: { email: uniqueEmail('ghost'), password: user.password } });
    const wrong = await request(app, '/v1/auth/login', { method: 'POST', json: { email: user.email, password: wrongPassword() } });
    assertProblem(unknown, 401);
    assertProblem(wrong, 401);
    assert.deepEqual(comparable(unknown), comparable(wrong));
  });

  test('D3: unknown e-mail and wrong password take roughly the same time (a dummy hash is verified)', { timeout: 120_000 }, async () => {
    const user = await newUser(app);
    const time = async (email: string) => {
      const started = performance.now();
      const res = await request(app, '/v1/auth/login', { method: 'POST', json: { email, password: wrongPassword() } });
      assert.equal(res.status, 401);
      return performance.now() - started;
    };
    await time(user.email); // warm-up
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      unknown.push(await time(uniqueEmail('ghost')));
      wrong.push(await time(user.email));
    }
    const ratio = median(unknown) / median(wrong);
    // argon2id costs tens of milliseconds; skipping it for unknown users would make the ratio ≈ 0.05.
    assert.ok(ratio > 0.4 && ratio < 2.5, `median unknown ${median(unknown).toFixed(1)} ms vs wrong ${median(wrong).toFixed(1)} ms`);
  });

  test('D3: registering a taken e-mail reveals nothing about the existing account', async () => {
    const user = await newUser(app, { displayName: 'Existing Person' });
    const res = await request(app, '/v1/auth/register', {
      method: 'POST',
      json: { email: user.email.toUpperCase(), password: strongPassword(), displayName: 'Someone Else' },
    });
    assert.ok(res.status === 409 || res.status === 400 || res.status === 201 || res.status === 202, `status ${res.status}`);
    assert.ok(!res.text.includes(user.id));
    assert.ok(!res.text.includes('Existing Person'));
    // And the existing account is untouched.
    await login(app, user.email, user.password);
  });
});

describe('D4: brute-force throttling', () => {
  test('D4: per account: failures beyond LOGIN_FAILURES_MAX → 429 with Retry-After, even with the right password', async () => {
    const throttled = await startApp({ LOGIN_FAILURES_MAX: '3', LOGIN_FAILURES_WINDOW_SECONDS: '600' });
    const victim = await newUser(throttled);
    const bystander = await newUser(throttled);
    for (let i = 0; i < 3; i += 1) {
      const res = await request(throttled, '/v1/auth/login', { method: 'POST', json: { email: victim.email, password: wrongPassword() } });
      assert.equal(res.status, 401);
    }
    const blocked = await request(throttled, '/v1/auth/login', { method: 'POST', json: { email: victim.email, password: victim.password } });
    assertProblem(blocked, 429);
    const retryAfter = Number(blocked.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 600, `Retry-After ${blocked.headers.get('retry-after')}`);
    // Another account from the same client is not locked out.
    await login(throttled, bystander.email, bystander.password);
  });

  test('D4: only wrong credentials count: logins shed with 503 do not lock the account', { timeout: 60_000 }, async () => {
    const throttled = await startApp({ LOGIN_FAILURES_MAX: '3', HASH_CONCURRENCY: '1', HASH_QUEUE_MAX: '1', RATE_LIMIT_AUTH_MAX: '10000' });
    const victim = await newUser(throttled);
    const other = await newUser(throttled);
    const loginAs = (user: TestUser) => request(throttled, '/v1/auth/login', { method: 'POST', json: { email: user.email, password: user.password } });
    // Another account's logins keep the hashing queue full: four clients, each sending its next login as soon as
    // the last one is answered, so a freed slot is taken again at once (rounds left gaps the victim slipped into)...
    const stop = new AbortController();
    const flood = Promise.all(
      [1, 2, 3, 4].map(async () => {
        while (!stop.signal.aborted) await loginAs(other);
      }),
    );
    // ...while the victim's own logins, one at a time (never in flight together), are shed with 503.
    const statuses: number[] = [];
    while (statuses.filter((s) => s === 503).length <= 3 && statuses.length < 200) statuses.push((await loginAs(victim)).status);
    stop.abort();
    await flood;
    assert.ok(statuses.filter((s) => s === 503).length > 3, `more 503s than LOGIN_FAILURES_MAX expected: ${statuses.join(',')}`);
    assert.ok(statuses.every((s) => s === 200 || s === 503), statuses.join(','));
    // The server's own refusals are not the user's failures: the right password still works.
    await login(throttled, victim.email, victim.password);
  });

  test('D4: per account whatever the client IP (rotating X-Forwarded-For behind a trusted proxy)', async () => {
    const throttled = await startApp({ LOGIN_FAILURES_MAX: '3', TRUST_PROXY: '1' });
    const victim = await newUser(throttled);
    for (let i = 0; i < 3; i += 1) {
      const res = await request(throttled, '/v1/auth/login', {
        method: 'POST',
        headers: { 'x-forwarded-for': `198.51.100.${i + 1}` },
        json: { email: victim.email, password: wrongPassword() },
      });
      assert.equal(res.status, 401);
    }
    const res = await request(throttled, '/v1/auth/login', {
      method: 'POST',
      headers: { 'x-forwarded-for': '198.51.100.77' },
      json: { email: victim.email, password: wrongPassword() },
    });
    assertProblem(res, 429);
  });

  test('D4: per account also counts e-mail case variants as one account', async () => {
    const throttled = await startApp({ LOGIN_FAILURES_MAX: '2' });
    const victim = await newUser(throttled);
    for (const email of [victim.email, victim.email.toUpperCase()]) {
      assert.equal((await request(throttled, '/v1/auth/login', { method: 'POST', json: { email, password: wrongPassword() } })).status, 401);
    }
    const res = await request(throttled, '/v1/auth/login', { method: 'POST', json: { email: victim.email, password: wrongPassword() } });
    assertProblem(res, 429);
  });

  test('D4: per client: the auth limiter trips before the global one (429 + Retry-After), other routes keep working', async () => {
    const limited = await startApp({ RATE_LIMIT_AUTH_MAX: '5', RATE_LIMIT_GLOBAL_MAX: '1000' });
    const user = await newUser(limited); // register + login: 2 auth hits
    const statuses: number[] = [];
    const sprayed = wrongPassword(); // one password tried against many accounts
    for (let i = 0; i < 4; i += 1) {
      const res = await request(limited, '/v1/auth/login', { method: 'POST', json: { email: uniqueEmail('spray'), password: sprayed } });
      statuses.push(res.status);
      if (res.status === 429) {
        assertProblem(res, 429);
        assert.match(res.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
      }
    }
    assert.deepEqual(statuses, [401, 401, 401, 429]);
    // Every credential endpoint shares the stricter limiter...
    assert.equal((await request(limited, '/v1/auth/register', { method: 'POST', json: { email: uniqueEmail(), password: strongPassword(), displayName: 'x' } })).status, 429);
    assert.equal((await request(limited, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } })).status, 429);
    // ...while the rest of the API is still within the global limit.
    assert.equal((await request(limited, '/v1/users/me', { headers: user.headers })).status, 200);
  });

  test('D4: by default the auth limiter is stricter than the global limiter', () => {
    const config = loadConfig(configEnv({ NODE_ENV: 'test' }));
    assert.ok(config.rateLimit.authMax / config.rateLimit.authWindowSeconds < config.rateLimit.globalMax / config.rateLimit.globalWindowSeconds);
    assert.ok(config.rateLimit.loginFailuresMax <= 10);
  });
});

describe('D5: access tokens', () => {
  let user: TestUser;
  let claims: Record<string, unknown>;
  const key = new TextEncoder().encode(JWT_SECRET);
  const now = () => Math.floor(Date.now() / 1000);
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  before(async () => {
    user = await newUser(app);
    claims = decodeJwt(user.accessToken);
  });

  async function forge(payload: Record<string, unknown>, options: { alg?: string; typ?: string | undefined; secret?: Uint8Array } = {}) {
    const header: { alg: string; typ?: string } = { alg: options.alg ?? 'HS256' };
    const typ = 'typ' in options ? options.typ : decodeProtectedHeader(user.accessToken).typ;
    if (typ !== undefined) header.typ = typ;
    return new SignJWT(payload).setProtectedHeader(header).sign(options.secret ?? key);
  }

  async function me(token: string) {
    return request(app, '/v1/users/me', { headers: bearer(token) });
  }

  test('D5: the issued token: pinned HS256, typ, iss, aud, sub, exp ≤ 15 min', () => {
    const header = decodeProtectedHeader(user.accessToken);
    assert.equal(header.alg, 'HS256');
    assert.equal(typeof header.typ, 'string');
    assert.equal(claims.iss, JWT_ISSUER);
    assert.equal(claims.aud, JWT_AUDIENCE);
    assert.equal(claims.sub, user.id);
    assert.equal(typeof claims.exp, 'number');
    assert.equal(typeof claims.iat, 'number');
    assert.ok((claims.exp as number) - (claims.iat as number) <= 900, 'access tokens live at most 15 minutes by default');
  });

  test('D5: a token accepted (and remembered as verified) is refused once it expires', { timeout: 20_000 }, async () => {
    const token = await forge({ ...claims, iat: now(), exp: now() + 1 });
    assert.equal((await me(token)).status, 200);
    // Past exp plus the 5 s clock tolerance: no path, cached or not, may accept it any more.
    await sleep(7000);
    assertProblem(await me(token), 401);
  });

  test('D5: control: the same claims re-signed with the right key are accepted', async () => {
    const res = await me(await forge({ ...claims }));
    assert.equal(res.status, 200, 'the forging helper must produce valid tokens, or the cases below prove nothing');
  });

  test('D5: alg none → 401', async () => {
    const header = b64({ alg: 'none', typ: decodeProtectedHeader(user.accessToken).typ });
    for (const token of [`${header}.${b64(claims)}.`, `${header}.${b64(claims)}.AAAA`, `${b64({ alg: 'none' })}.${b64(claims)}.`]) {
      const res = await me(token);
      assertProblem(res, 401);
    }
  });

  test('D5: wrong signature, tampered payload, other algorithm → 401', async () => {
    assertProblem(await me(await forge({ ...claims }, { secret: new TextEncoder().encode('x'.repeat(48)) })), 401);
    assertProblem(await me(await forge({ ...claims }, { alg: 'HS512' })), 401);
    assertProblem(await me(await forge({ ...claims }, { alg: 'HS384' })), 401);
    const [h, , s] = user.accessToken.split('.');
    assertProblem(await me(`${h}.${b64({ ...claims, role: 'admin' })}.${s}`), 401);
  });

  test('D5: wrong aud, wrong iss → 401', async () => {
    assertProblem(await me(await forge({ ...claims, aud: 'another-api' })), 401);
    assertProblem(await me(await forge({ ...claims, iss: 'https://attacker.example' })), 401);
    const { aud: _aud, ...noAud } = claims;
    assertProblem(await me(await forge(noAud)), 401);
    const { iss: _iss, ...noIss } = claims;
    assertProblem(await me(await forge(noIss)), 401);
  });

  test('D5: expired, no exp, not yet valid → 401', async () => {
    assertProblem(await me(await forge({ ...claims, iat: now() - 3600, exp: now() - 60 })), 401);
    const { exp: _exp, ...noExp } = claims;
    assertProblem(await me(await forge(noExp)), 401);
    assertProblem(await me(await forge({ ...claims, iat: now() + 3600, exp: now() + 4000 })), 401);
    assertProblem(await me(await forge({ ...claims, nbf: now() + 3600 })), 401);
  });

  test('D5: a token of the wrong type (typ JWT / missing) → 401', async () => {
    assertProblem(await me(await forge({ ...claims }, { typ: 'JWT' })), 401);
    assertProblem(await me(await forge({ ...claims }, { typ: undefined })), 401);
  });

  test('D5: a refresh token used as an access token → 401', async () => {
    assertProblem(await me(user.refreshToken), 401);
    assertProblem(await request(app, '/v1/notes', { headers: bearer(user.refreshToken) }), 401);
  });

  test('D5: tokens in the query string or a cookie are not accepted', async () => {
    for (const query of ['access_token', 'token', 'jwt', 'authorization']) {
      const res = await request(app, `/v1/users/me?${query}=${user.accessToken}`);
      assertProblem(res, 401);
    }
    assertProblem(await request(app, '/v1/users/me', { headers: { cookie: `access_token=${user.accessToken}; token=${user.accessToken}` } }), 401);
  });

  test('D5: malformed Authorization headers → 401 with a Bearer challenge', async () => {
    for (const value of ['Bearer', 'Bearer ', `Basic ${Buffer.from('a:b').toString('base64')}`, `Token ${user.accessToken}`, `Bearer ${user.accessToken} extra`, 'Bearer a.b']) {
      const res = await request(app, '/v1/users/me', { headers: { authorization: value } });
      assertProblem(res, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
  });
});

describe('D6: refresh tokens and sessions', () => {
  test('D6: opaque, at least 128 random bits, unique per login, and stored only as a hash', async () => {
    const user = await newUser(app);
    const second = await login(app, user.email, user.password);
    for (const token of [user.refreshToken, second.refreshToken]) {
      assert.ok(!token.includes('.'), 'a refresh token must be opaque, not a JWT');
      assert.match(token, /^[A-Za-z0-9_-]{22,}$/);
      assert.ok(Buffer.from(token, 'base64url').length >= 16, 'at least 128 bits');
    }
    assert.notEqual(user.refreshToken, second.refreshToken);
    const stored = await everyStoredValue();
    assert.ok(!stored.includes(user.refreshToken) && !stored.includes(second.refreshToken), 'a refresh token is stored in clear');
    // Nor the access token or its signature.
    assert.ok(!stored.includes(user.accessToken.split('.')[2] ?? 'none'));
  });

  test('D6: every use rotates; a rotated token replayed → 401 and the whole family is revoked', async () => {
    const user = await newUser(app);
    const first = await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } });
    assert.equal(first.status, 200, first.text);
    const r2 = String(first.body.refreshToken);
    assert.notEqual(r2, user.refreshToken);
    assert.equal((await me(String(first.body.accessToken))).status, 200);
    // The attacker (or the victim) replays the spent token.
    assertProblem(await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } }), 401);
    // The newest token of that family is dead too.
    assertProblem(await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: r2 } }), 401);
    // Another session of the same user (another family) is unaffected.
    const other = await login(app, user.email, user.password);
    assert.equal((await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: other.refreshToken } })).status, 200);
  });

  test('D6: two simultaneous uses of one refresh token → exactly one succeeds', async () => {
    const user = await newUser(app);
    const results = await Promise.all(
      [1, 2, 3].map(() => request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } })),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 401, 401]);
  });

  test('D6: an unknown or expired refresh token → 401', async () => {
    assertProblem(await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: 'A'.repeat(43) } }), 401);
    const user = await newUser(app);
    await app.db.inner.query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1", [user.id]);
    assertProblem(await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } }), 401);
  });

  test('D6: logout revokes the session server-side', async () => {
    const user = await newUser(app);
    const res = await request(app, '/v1/auth/logout', { method: 'POST', headers: user.headers, json: { refreshToken: user.refreshToken } });
    assert.equal(res.status, 204);
    assertProblem(await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } }), 401);
  });

  test("D6: logging out with someone else's refresh token does not revoke it", async () => {
    const alice = await newUser(app);
    const mallory = await newUser(app);
    const res = await request(app, '/v1/auth/logout', { method: 'POST', headers: mallory.headers, json: { refreshToken: alice.refreshToken } });
    assert.ok(res.status === 204 || res.status === 404, `status ${res.status}`);
    assert.equal((await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: alice.refreshToken } })).status, 200);
  });

  test("D6: a password change revokes the user's other sessions, keeps this one, and swaps the password", async () => {
    const user = await newUser(app);
    const other = await login(app, user.email, user.password);
    const newPassword = strongPassword();
    const res = await request(app, '/v1/auth/password', {
      method: 'POST',
      headers: user.headers,
      json: { currentPassword: user.password, newPassword },
    });
    assert.equal(res.status, 204, res.text);
    assertProblem(await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: other.refreshToken } }), 401);
    assert.equal((await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } })).status, 200);
    assertProblem(await request(app, '/v1/auth/login', { method: 'POST', json: { email: user.email, password: user.password } }), 401);
    await login(app, user.email, newPassword);
  });

  test('D6: a password change with the wrong current password → 400/401/403 and changes nothing', async () => {
    const user = await newUser(app);
    const other = await login(app, user.email, user.password);
    const res = await request(app, '/v1/auth/password', {
      method: 'POST',
      headers: user.headers,
      json: { currentPassword: 'not-my-password-at-all', newPassword: strongPassword() },
    });
    assert.ok([400, 401, 403].includes(res.status), `status ${res.status}`);
    assert.equal((await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: other.refreshToken } })).status, 200);
    await login(app, user.email, user.password);
  });

  test('D6: rotation keeps the family\'s absolute deadline: the session ends REFRESH_TOKEN_TTL_SECONDS after login', { timeout: 30_000 }, async () => {
    const short = await startApp({ REFRESH_TOKEN_TTL_SECONDS: '300' });
    const user = await newUser(short);
    const deadlines = async () =>
      (await short.db.inner.query<{ expires_at: Date }>('SELECT expires_at FROM refresh_tokens WHERE user_id = $1 ORDER BY created_at, expires_at', [user.id])).rows.map((r) => r.expires_at.getTime());
    const [familyDeadline] = await deadlines();
    assert.ok(familyDeadline !== undefined);
    await sleep(1100);
    let token = user.refreshToken;
    for (let i = 0; i < 2; i += 1) {
      const rotated = await request(short, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: token } });
      assert.equal(rotated.status, 200, rotated.text);
      token = String(rotated.body.refreshToken);
    }
    const all = await deadlines();
    assert.equal(all.length, 3);
    for (const deadline of all) assert.equal(deadline, familyDeadline, 'a rotated token must not outlive its family');
  });

  test("D6: after logout the session's access token → 401", async () => {
    const user = await newUser(app);
    assert.equal((await me(user.accessToken)).status, 200);
    const res = await request(app, '/v1/auth/logout', { method: 'POST', headers: user.headers, json: { refreshToken: user.refreshToken } });
    assert.equal(res.status, 204);
    assertProblem(await me(user.accessToken), 401);
  });

  test("D6: refresh-token reuse → every access token of that family (the attacker's and the victim's) → 401", async () => {
    const victim = await newUser(app);
    const stolen = await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: victim.refreshToken } });
    assert.equal(stolen.status, 200);
    const attackerToken = String(stolen.body.accessToken);
    assert.equal((await me(attackerToken)).status, 200);
    assert.equal((await me(victim.accessToken)).status, 200);
    // The victim's client replays its (now spent) refresh token: reuse is detected, the family revoked.
    assertProblem(await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: victim.refreshToken } }), 401);
    assertProblem(await me(attackerToken), 401);
    assertProblem(await me(victim.accessToken), 401);
    const other = await login(app, victim.email, victim.password);
    assert.equal((await me(other.accessToken)).status, 200, 'other sessions are unaffected');
  });

  test("D6: a password change → the other sessions' access tokens → 401, the current one still works", async () => {
    const user = await newUser(app);
    const other = await login(app, user.email, user.password);
    assert.equal((await me(other.accessToken)).status, 200);
    const res = await request(app, '/v1/auth/password', {
      method: 'POST',
      headers: user.headers,
      json: { currentPassword: user.password, newPassword: strongPassword() },
    });
    assert.equal(res.status, 204, res.text);
    assertProblem(await me(other.accessToken), 401);
    assert.equal((await me(user.accessToken)).status, 200);
  });

  test('D6: a session revoked on another instance ends here within SESSION_CACHE_MS; with 0, at once', async () => {
    const cached = await startApp({ SESSION_CACHE_MS: '400' });
    const uncached = await startApp({ SESSION_CACHE_MS: '0' });
    const user = await newUser(app);
    const meOn = (other: TestApp) => request(other, '/v1/users/me', { headers: user.headers });
    assert.equal((await meOn(cached)).status, 200);
    assert.equal((await meOn(uncached)).status, 200);
    const revokedAt = performance.now();
    const res = await request(app, '/v1/auth/logout', { method: 'POST', headers: user.headers, json: { refreshToken: user.refreshToken } });
    assert.equal(res.status, 204);
    assertProblem(await meOn(uncached), 401);
    // Within the window the other instance may still answer from its cache; after it, never.
    await sleep(Math.max(0, 400 - (performance.now() - revokedAt)) + 50);
    assertProblem(await meOn(cached), 401);
  });

  function me(token: string) {
    return request(app, '/v1/users/me', { headers: bearer(token) });
  }
});

describe('D7: the signing secret (the real server process)', () => {
  const placeholder = (() => {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- the project's own .env.example, not input
    const line = readFileSync(join(PROJECT_DIR, '.env.example'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('JWT_SECRET='));
    assert.ok(line !== undefined, '.env.example must document JWT_SECRET');
    return line.slice('JWT_SECRET='.length).trim();
  })();
  const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://app@127.0.0.1:1/app', CORS_ORIGINS: 'https://app.example.com' };

  const refused: [string, string | undefined][] = [
    ['missing', undefined],
    ['short (31 bytes)', randomBytes(24).toString('base64url').slice(0, 31)], // random, so refused for its length alone
    ['the .env.example placeholder', placeholder],
    ['32 bytes of one repeated character', 'q'.repeat(48)],
    ['a placeholder-looking phrase', 'please-change-me-please-change-me-please-change-me'],
  ];
  for (const [label, value] of refused) {
    test(`D7: ${label} JWT_SECRET in production → exit non-zero before listening, naming JWT_SECRET only`, { timeout: 30_000 }, async () => {
      const server = await spawnServer(serverEnv({ ...production, JWT_SECRET: value }));
      const exit = await waitForExit(server, 10_000);
      assert.notEqual(exit.code, 0);
      assert.equal(server.port, undefined);
      const output = [...server.stdout, ...server.stderr].join('\n');
      assert.match(output, /JWT_SECRET/);
      if (typeof value === 'string') assert.ok(!output.includes(value), `the secret leaked: ${output}`);
    });
  }

  test('D7: real secrets are never taken for placeholders: 2,000 `openssl rand -base64 48`-like values are accepted', () => {
    for (let i = 0; i < 2000; i += 1) {
      const secret = randomBytes(48).toString('base64');
      assert.doesNotThrow(() => loadConfig(configEnv({ ...production, JWT_SECRET: secret })), secret);
    }
  });

  test('D7: known placeholders and values under 43 characters are refused, naming JWT_SECRET only', () => {
    const tail = `-${randomBytes(33).toString('base64url')}`; // 44 random characters: only the prefix gives these away
    const values = [placeholder, 'changeme', 'CHANGEME', 'secret', 'xxx', `ChangeMe${tail}`, `your-secret-key-here${tail}`, `YOUR_JWT_SECRET${tail}`, `replace-me${tail}`, randomBytes(48).toString('base64').slice(0, 42)];
    for (const secret of values) {
      assert.throws(
        () => loadConfig(configEnv({ ...production, JWT_SECRET: secret })),
        (err: unknown) => err instanceof ConfigError && err.variables.length > 0 && err.variables.every((v) => v === 'JWT_SECRET') && !err.message.includes(secret),
        secret,
      );
    }
  });

  test('D7: in-process: short or placeholder secrets are refused outside development/test', () => {
    // The .env.example value exists for local runs: development and test accept it.
    for (const env of ['development', 'test']) assert.doesNotThrow(() => loadConfig(configEnv({ NODE_ENV: env, JWT_SECRET: placeholder })));
    const strong = createHash('sha512').update(JWT_SECRET).digest('hex');
    assert.doesNotThrow(() => loadConfig(configEnv({ ...production, JWT_SECRET: strong })));
    for (const secret of [undefined, placeholder, 'short-secret']) {
      assert.throws(
        () => loadConfig(configEnv({ ...production, JWT_SECRET: secret })),
        (err: unknown) => err instanceof ConfigError && err.variables.includes('JWT_SECRET') && (secret === undefined || !err.message.includes(secret)),
      );
    }
  });
});
