// Baseline C: CORS by exact origin (OWASP API8).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import { closeAll, startApp, type TestApp } from './support/app.ts';
import { ALLOWED_ORIGIN, configEnv, JWT_SECRET } from './support/env.ts';
import { request } from './support/http.ts';
import { serverEnv, spawnServer, waitForExit } from './support/processes.ts';
import { newUser, type TestUser } from './support/users.ts';

let app: TestApp;
let credentialed: TestApp;
let user: TestUser;

before(async () => {
  app = await startApp({ CORS_ORIGINS: `${ALLOWED_ORIGIN},http://localhost:5173` });
  credentialed = await startApp({ CORS_ORIGINS: ALLOWED_ORIGIN, CORS_CREDENTIALS: 'true' });
  user = await newUser(app);
});
after(closeAll);

function preflight(target: TestApp, origin: string, path = '/v1/notes') {
  return request(target, path, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
}

function varyIncludesOrigin(headers: Headers): boolean {
  return (headers.get('vary') ?? '').split(',').some((v) => v.trim().toLowerCase() === 'origin');
}

describe('C1: origins off the allowlist get nothing', () => {
  const refused = [
    'https://evil.example',
    'https://app.example.com.evil.test',
    'https://evilapp.example.com',
    'https://app.example.com.',
    'http://app.example.com',
    'https://app.example.com:8443',
    'https://sub.app.example.com',
    'https://app-example.com',
    'null',
    'https://APP.EXAMPLE.COM',
    `${ALLOWED_ORIGIN}/`,
    `${ALLOWED_ORIGIN}, https://evil.example`,
  ];
  for (const origin of refused) {
    test(`C1: ${origin} → no Access-Control-Allow-* headers, simple and preflight, credentials or not`, async () => {
      for (const target of [app, credentialed]) {
        const simple = await request(target, '/v1/users/me', { headers: { ...user.headers, origin } });
        assert.equal(simple.headers.get('access-control-allow-origin'), null);
        assert.equal(simple.headers.get('access-control-allow-credentials'), null);
        const pre = await preflight(target, origin);
        assert.equal(pre.headers.get('access-control-allow-origin'), null);
        assert.equal(pre.headers.get('access-control-allow-credentials'), null);
        assert.equal(pre.headers.get('access-control-allow-methods'), null);
        assert.equal(pre.headers.get('access-control-allow-headers'), null);
      }
    });
  }

  test('C1: the allowlist is never answered with a wildcard', async () => {
    for (const origin of [ALLOWED_ORIGIN, 'https://evil.example']) {
      const res = await request(app, '/healthz', { headers: { origin } });
      assert.notEqual(res.headers.get('access-control-allow-origin'), '*');
    }
  });
});

describe('C2: allowed origins get exactly themselves back, with Vary: Origin', () => {
  for (const origin of [ALLOWED_ORIGIN, 'http://localhost:5173']) {
    test(`C2: ${origin} on a simple request`, async () => {
      const res = await request(app, '/v1/users/me', { headers: { ...user.headers, origin } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      assert.ok(varyIncludesOrigin(res.headers), `Vary: ${res.headers.get('vary')}`);
      // Without CORS_CREDENTIALS the browser is not told to send cookies.
      assert.equal(res.headers.get('access-control-allow-credentials'), null);
    });
  }

  test('C2: preflight from an allowed origin → 2xx naming the origin, methods and the Authorization header', async () => {
    const res = await preflight(app, ALLOWED_ORIGIN);
    assert.ok(res.status === 204 || res.status === 200, `preflight status ${res.status}`);
    assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    assert.ok(varyIncludesOrigin(res.headers));
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /authorization/i);
    assert.notEqual(res.headers.get('access-control-allow-methods'), '*');
  });

  test('C2: with CORS_CREDENTIALS=true an allowed origin also gets Allow-Credentials: true', async () => {
    const res = await request(credentialed, '/healthz', { headers: { origin: ALLOWED_ORIGIN } });
    assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.ok(varyIncludesOrigin(res.headers));
  });

  test('C2: responses to refused origins still say Vary: Origin (no cache poisoning across origins)', async () => {
    const res = await request(app, '/healthz', { headers: { origin: 'https://evil.example' } });
    assert.ok(varyIncludesOrigin(res.headers), `Vary: ${res.headers.get('vary')}`);
  });

  test('C2: error responses to an allowed origin carry the CORS headers too (the client can read the problem)', async () => {
    const res = await request(app, '/v1/notes', { headers: { origin: ALLOWED_ORIGIN } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
  });
});

describe('C3: a dangerous CORS configuration stops production startup', () => {
  const production = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://app@127.0.0.1:1/app',
    JWT_SECRET,
  };

  const cases: [string, Record<string, string | undefined>, string][] = [
    ['a wildcard origin', { CORS_ORIGINS: '*', CORS_CREDENTIALS: 'true' }, '*'],
    ['a wildcard among exact origins', { CORS_ORIGINS: `${ALLOWED_ORIGIN},https://*.leaky-origin-value.test`, CORS_CREDENTIALS: 'true' }, 'leaky-origin-value'],
    ['an empty allowlist with credentials', { CORS_ORIGINS: '', CORS_CREDENTIALS: 'true' }, ''],
    ['an unset allowlist with credentials', { CORS_ORIGINS: undefined, CORS_CREDENTIALS: 'true' }, ''],
  ];

  for (const [label, env, value] of cases) {
    test(`C3: ${label} → the process exits non-zero before listening, naming CORS_ORIGINS`, { timeout: 30_000 }, async () => {
      const server = await spawnServer(serverEnv({ ...production, ...env }));
      const exit = await waitForExit(server, 10_000);
      assert.notEqual(exit.code, 0);
      assert.equal(server.port, undefined, 'it must never listen');
      const output = [...server.stdout, ...server.stderr].join('\n');
      assert.match(output, /CORS_ORIGINS/);
      if (value.length > 1) assert.ok(!output.includes(value), `the value leaked: ${output}`);
    });
  }

  test('C3: plain http only for localhost/127.0.0.1; explicit default ports and ports > 65535 are refused with a clear message', () => {
    const refused: [string, RegExp][] = [
      ['http://app.example.com', /http:\/\/ only for localhost/],
      ['http://10.0.0.5:8080', /http:\/\/ only for localhost/],
      ['https://app.example.com:443', /default port/],
      ['http://localhost:80', /default port/],
      ['https://app.example.com:70000', /port outside 1–65535/],
    ];
    for (const [origin, message] of refused) {
      assert.throws(
        () => loadConfig(configEnv({ ...production, CORS_ORIGINS: `${ALLOWED_ORIGIN},${origin}` })),
        (err: unknown) => err instanceof ConfigError && err.variables.includes('CORS_ORIGINS') && message.test(err.message) && !err.message.includes(origin),
        origin,
      );
    }
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:3000', 'https://app.example.com:8443']) {
      assert.deepEqual(loadConfig(configEnv({ ...production, CORS_ORIGINS: origin })).cors.origins, [origin]);
    }
  });

  test('C3: the same rules in-process: ConfigError names CORS_ORIGINS; exact origins are accepted', () => {
    assert.throws(
      () => loadConfig(configEnv({ ...production, CORS_ORIGINS: '*', CORS_CREDENTIALS: 'true' })),
      (err: unknown) => err instanceof ConfigError && err.variables.includes('CORS_ORIGINS'),
    );
    assert.throws(
      () => loadConfig(configEnv({ ...production, CORS_CREDENTIALS: 'true' })),
      (err: unknown) => err instanceof ConfigError && err.variables.includes('CORS_ORIGINS'),
    );
    const config = loadConfig(configEnv({ ...production, CORS_ORIGINS: ALLOWED_ORIGIN, CORS_CREDENTIALS: 'true' }));
    assert.deepEqual(config.cors.origins, [ALLOWED_ORIGIN]);
  });
});
