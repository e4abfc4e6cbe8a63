// Baseline H: configuration and exposure (OWASP API8, API9).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { z } from 'zod';
import { ConfigError, loadConfig } from '../src/config.ts';
import { usableCpus } from '../src/cpus.ts';
import { MAX_PASSWORD_LENGTH } from '../src/features/auth/password-policy.ts';
import pkg from '../package.json' with { type: 'json' };
import { shareApp, startApp, type TestApp } from './support/app.ts';
import { configEnv, JWT_SECRET } from './support/env.ts';
import { assertProblem, request } from './support/http.ts';
import { canary } from './support/logs.ts';
import { serverEnv, spawnServer, waitForExit } from './support/processes.ts';
import { type TestUser } from './support/users.ts';

let app: TestApp;
let user: TestUser;

shareApp((shared) => ({ app, user } = shared));

const PRODUCTION = { NODE_ENV: 'production', DATABASE_URL: 'postgres://app@127.0.0.1:1/app', JWT_SECRET, CORS_ORIGINS: 'https://app.example.com' };

describe('H1: configuration is validated once, at startup', () => {
  const dbPassword = canary('dbpass');
  const shortJwtSecret = canary('short-jwt'); // 20 characters, under the minimum of 43
  const cases: [string, Record<string, string | undefined>, string, string | undefined][] = [
    ['PORT not a number', { PORT: 'port-value-7731' }, 'PORT', 'port-value-7731'],
    ['PORT out of range', { PORT: '70000' }, 'PORT', '70000'],
    ['LOG_LEVEL unknown', { LOG_LEVEL: 'loglevel-value-x9' }, 'LOG_LEVEL', 'loglevel-value-x9'],
    ['DATABASE_URL not postgres', { DATABASE_URL: `mysql://root:${dbPassword}@db.internal/app` }, 'DATABASE_URL', dbPassword],
    ['DATABASE_URL missing in production', { ...PRODUCTION, DATABASE_URL: undefined }, 'DATABASE_URL', undefined],
    ['NODE_ENV unknown', { NODE_ENV: 'staging-value-q2' }, 'NODE_ENV', 'staging-value-q2'],
    ['TRUST_PROXY true', { TRUST_PROXY: 'true' }, 'TRUST_PROXY', undefined],
    ['RATE_LIMIT_GLOBAL_MAX not a number', { RATE_LIMIT_GLOBAL_MAX: 'lots-value-81' }, 'RATE_LIMIT_GLOBAL_MAX', 'lots-value-81'],
    ['BODY_LIMIT nonsense', { BODY_LIMIT: 'huge-value-33' }, 'BODY_LIMIT', 'huge-value-33'],
    ['JWT_SECRET short', { JWT_SECRET: shortJwtSecret }, 'JWT_SECRET', shortJwtSecret],
    ['SHUTDOWN_GRACE_SECONDS above 10', { SHUTDOWN_GRACE_SECONDS: '60' }, 'SHUTDOWN_GRACE_SECONDS', undefined],
  ];
  for (const [label, env, variable, value] of cases) {
    test(`H1: ${label} → exit non-zero before listening; the message names ${variable}, never the value`, { timeout: 30_000 }, async () => {
      const server = await spawnServer(serverEnv(env));
      const exit = await waitForExit(server, 10_000);
      assert.notEqual(exit.code, 0);
      assert.equal(server.port, undefined, 'it must not listen');
      const output = [...server.stdout, ...server.stderr].join('\n');
      assert.ok(!/listening/i.test(output), output);
      assert.ok(output.includes(variable), `the message must name ${variable}: ${output}`);
      if (value !== undefined) assert.ok(!output.includes(value), `the value leaked: ${output}`);
    });
  }

  test('H1: several bad variables are all named in one go', () => {
    assert.throws(
      () => loadConfig(configEnv({ NODE_ENV: 'test', PORT: 'x', LOG_LEVEL: 'y', HASH_CONCURRENCY: '0' })),
      (err: unknown) =>
        err instanceof ConfigError && ['PORT', 'LOG_LEVEL', 'HASH_CONCURRENCY'].every((v) => err.variables.includes(v)),
    );
  });

  test('H1: the loaded configuration is frozen (read once, never changed at run time)', () => {
    const config = loadConfig(configEnv({ NODE_ENV: 'test' }));
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.jwt));
    assert.ok(Object.isFrozen(config.rateLimit));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
  });

  test('H1: NODE_ENV unset means production rules (fail closed)', () => {
    assert.throws(
      () => loadConfig(configEnv({ JWT_SECRET })),
      (err: unknown) => err instanceof ConfigError && err.variables.includes('DATABASE_URL'),
    );
  });
});

describe('H1: HASH_CONCURRENCY leaves libuv threads free', () => {
  test('H1: HASH_CONCURRENCY defaults to between 1 and 3 and must stay below UV_THREADPOOL_SIZE', () => {
    const concurrency = loadConfig(configEnv({ NODE_ENV: 'test' })).passwords.hashConcurrency;
    assert.ok(concurrency >= 1 && concurrency <= 3, `default ${concurrency}`);
    assert.throws(
      () => loadConfig(configEnv({ NODE_ENV: 'test', HASH_CONCURRENCY: '4' })),
      (err: unknown) => err instanceof ConfigError && err.variables.join() === 'HASH_CONCURRENCY' && /UV_THREADPOOL_SIZE/.test(err.message),
    );
    assert.equal(loadConfig(configEnv({ NODE_ENV: 'test', HASH_CONCURRENCY: '4', UV_THREADPOOL_SIZE: '8' })).passwords.hashConcurrency, 4);
  });

  test('H1: the hashing queue defaults to 16 waiting hashes per hashing slot; HASH_QUEUE_MAX overrides it', () => {
    assert.equal(loadConfig(configEnv({ NODE_ENV: 'test', HASH_CONCURRENCY: '2' })).passwords.hashQueueMax, 32);
    assert.equal(loadConfig(configEnv({ NODE_ENV: 'test', HASH_CONCURRENCY: '1' })).passwords.hashQueueMax, 16);
    assert.equal(loadConfig(configEnv({ NODE_ENV: 'test', HASH_CONCURRENCY: '1', HASH_QUEUE_MAX: '0' })).passwords.hashQueueMax, 0);
  });
});

describe('H1: hashing is sized by the CPUs the process may use, not by the host', () => {
  let base = '';
  before(() => { base = mkdtempSync(join(tmpdir(), 'cgroup-')); });
  after(() => { rmSync(base, { recursive: true, force: true }); });

  /** A fake cgroup mount and /proc/self/cgroup in a temporary directory. */
  function fakeCgroup(membership: string, files: Record<string, string>): { cgroupRoot: string; cgroupFile: string } {
    const dir = mkdtempSync(join(base, 'case-'));
    const cgroupRoot = join(dir, 'sys');
    const put = (path: string, content: string) => {
      /* eslint-disable security/detect-non-literal-fs-filename -- inside this test's own temporary directory */
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      /* eslint-enable security/detect-non-literal-fs-filename */
    };
    for (const [path, content] of Object.entries(files)) put(join(cgroupRoot, path), content);
    put(join(dir, 'cgroup'), membership);
    return { cgroupRoot, cgroupFile: join(dir, 'cgroup') };
  }

  test('H1: cgroup v2 cpu.max: a quota limits the CPUs; "max" leaves the affinity', () => {
    assert.equal(usableCpus({ ...fakeCgroup('0::/\n', { 'cpu.max': '100000 100000\n' }), parallelism: 64 }), 1);
    assert.equal(usableCpus({ ...fakeCgroup('0::/\n', { 'cpu.max': '150000 100000\n' }), parallelism: 64 }), 1.5);
    assert.equal(usableCpus({ ...fakeCgroup('0::/\n', { 'cpu.max': 'max 100000\n' }), parallelism: 8 }), 8);
  });

  test('H1: cgroup v2: a limit on a parent cgroup applies to the cgroups below it', () => {
    const files = { 'kubepods/cpu.max': '200000 100000\n', 'kubepods/pod1/cpu.max': 'max 100000\n' };
    assert.equal(usableCpus({ ...fakeCgroup('0::/kubepods/pod1\n', files), parallelism: 16 }), 2);
  });

  test('H1: cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us; a quota of -1 is no limit', () => {
    const limited = { 'cpu,cpuacct/cpu.cfs_quota_us': '300000\n', 'cpu,cpuacct/cpu.cfs_period_us': '100000\n' };
    assert.equal(usableCpus({ ...fakeCgroup('12:memory:/\n4:cpu,cpuacct:/\n', limited), parallelism: 32 }), 3);
    const unlimited = { 'cpu/cpu.cfs_quota_us': '-1\n', 'cpu/cpu.cfs_period_us': '100000\n' };
    assert.equal(usableCpus({ ...fakeCgroup('4:cpu:/\n', unlimited), parallelism: 6 }), 6);
  });

  test('H1: the affinity wins when it is the smaller; never below one CPU; no cgroup files → the affinity', () => {
    assert.equal(usableCpus({ ...fakeCgroup('0::/\n', { 'cpu.max': '800000 100000\n' }), parallelism: 2 }), 2);
    assert.equal(usableCpus({ ...fakeCgroup('0::/\n', { 'cpu.max': '10000 100000\n' }), parallelism: 4 }), 1);
    assert.equal(usableCpus({ ...fakeCgroup('', {}), parallelism: 3 }), 3);
    assert.equal(usableCpus({ cgroupRoot: '/nonexistent', cgroupFile: '/nonexistent', parallelism: 5 }), 5);
  });
});

describe('H2: trust proxy comes from configuration, never `true`', () => {
  async function hit(target: TestApp, forwardedFor: string) {
    return request(target, '/openapi.json', { headers: { 'x-forwarded-for': forwardedFor } });
  }

  test('H2: unset → a forged X-Forwarded-For changes neither the client IP in the logs nor the rate-limit key', async () => {
    const direct = await startApp({ RATE_LIMIT_GLOBAL_MAX: '3' });
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i += 1) statuses.push((await hit(direct, `203.0.113.${i}`)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429], 'each forged address must not get a fresh bucket');
    const ips = direct.logs.entries.filter((e) => e.msg === 'request').map((e) => String(e.ip));
    assert.ok(ips.length >= 4);
    for (const ip of ips) assert.match(ip, /^(::ffff:)?127\.0\.0\.1$|^::1$/);
    assert.ok(!direct.logs.text().includes('203.0.113.'));
  });

  test('H2: TRUST_PROXY=1 → exactly one hop is trusted: its address is the client, spoofed hops before it are not', async () => {
    const proxied = await startApp({ RATE_LIMIT_GLOBAL_MAX: '2', TRUST_PROXY: '1' });
    // Behind one proxy, the proxy appends the real peer; everything to its left is client-supplied.
    for (let i = 1; i <= 3; i += 1) assert.equal((await hit(proxied, `10.0.0.${i}, 198.51.100.${i}`)).status, 200);
    const ips = proxied.logs.entries.filter((e) => e.msg === 'request').map((e) => String(e.ip));
    assert.deepEqual(ips.slice(-3), ['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    // The same real client, whatever it forges on the left, shares one bucket.
    assert.equal((await hit(proxied, '10.9.9.9, 198.51.100.1')).status, 200);
    assert.equal((await hit(proxied, '10.8.8.8, 198.51.100.1')).status, 429);
  });

  test('H2: TRUST_PROXY=true (trust everything) is refused; hop counts and CIDR lists are accepted', () => {
    for (const value of ['true', 'yes', '*', '10.0.0.0/33']) {
      assert.throws(
        () => loadConfig(configEnv({ NODE_ENV: 'test', TRUST_PROXY: value })),
        (err: unknown) => err instanceof ConfigError && err.variables.includes('TRUST_PROXY'),
        value,
      );
    }
    assert.equal(loadConfig(configEnv({ NODE_ENV: 'test', TRUST_PROXY: '2' })).trustProxy, 2);
    assert.deepEqual(loadConfig(configEnv({ NODE_ENV: 'test', TRUST_PROXY: '10.0.0.0/8,192.168.1.1' })).trustProxy, ['10.0.0.0/8', '192.168.1.1']);
    assert.equal(loadConfig(configEnv({ NODE_ENV: 'test' })).trustProxy, false);
  });
});

describe('H3: OpenAPI from the validating schemas', () => {
  interface Operation {
    security?: unknown[];
    requestBody?: { content: Record<string, { schema: JsonSchema }> };
    parameters?: { name: string; in: string; required: boolean; schema: JsonSchema }[];
  }
  interface Doc {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
  }
  interface JsonSchema {
    type?: string;
    properties?: Record<string, JsonSchema>;
    required?: string[];
    additionalProperties?: unknown;
    maxLength?: number;
    minLength?: number;
    minimum?: number;
    maximum?: number;
  }

  let doc: Doc;
  before(async () => {
    doc = await openApi(app);
  });

  async function openApi(target: TestApp): Promise<Doc> {
    const res = await request<Doc>(target, '/openapi.json');
    assert.equal(res.status, 200);
    return res.body;
  }

  function operation(document: Doc, method: string, path: string): Operation {
    const op = document.paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
    assert.ok(op !== undefined, `${method} ${path} is not documented`);
    return op;
  }

  function bodySchema(document: Doc, method: string, path: string): JsonSchema {
    const schema = operation(document, method, path).requestBody?.content['application/json']?.schema;
    assert.ok(schema !== undefined, `no documented body for ${method} ${path}`);
    return schema;
  }

  test('H3: served outside production as OpenAPI 3.1, documenting exactly the served routes', () => {
    assert.match(doc.openapi, /^3\.1\./);
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
      .sort();
    const served = app.routes.map((r) => `${r.method} ${r.path}`).sort();
    assert.deepEqual(documented, served);
    for (const route of app.routes) {
      const secured = (operation(doc, route.method, route.path).security ?? []).length > 0;
      assert.equal(secured, route.access !== 'public', `${route.method} ${route.path}: documented security must match access`);
      if (route.body !== undefined) assert.equal(bodySchema(doc, route.method, route.path).additionalProperties, false, `${route.method} ${route.path} must be documented as strict`);
    }
  });

  // Probes at and around every bound the document states, in characters that validators like to refuse.
  const FILLERS = ['a', 'Zz9', 'é', 'e\u0301', '😀', ' ', 'a ', '\u00a0', '\ufeff', 'ﷺ', '\t', '\n', '\r\n', '\u0000', 'a\u0007', '\u001f', '\u007f', '\u0085', '\u009f', '\u2028'];
  const FIXED = [randomUUID(), '00000000-0000-0000-0000-000000000000', 'someone@example.com', 'SomeOne@Example.COM', 'A'.repeat(43), `1700000000000.${randomUUID()}`, '0', '1', '007', '-1', '1.5', '1e2'];

  function stringProbes(schema: JsonSchema): string[] {
    const min = schema.minLength ?? 0;
    const max = schema.maxLength ?? 64;
    const lengths = [...new Set([0, 1, min - 1, min, min + 1, max - 1, max, max + 1])].filter((n) => n >= 0);
    const made = FILLERS.flatMap((filler) => lengths.map((n) => Array.from(filler.repeat(n)).slice(0, n).join('')));
    return [...made, ...FIXED];
  }

  function probes(schema: JsonSchema): (string | number)[] {
    if (schema.type === 'integer' || schema.type === 'number') {
      const min = schema.minimum ?? 0;
      const max = schema.maximum ?? 1000;
      return [min - 1, min, min + 1, max - 1, max, max + 1, 0, 1.5, -1];
    }
    return stringProbes(schema);
  }

  const describeValue = (value: unknown) => JSON.stringify(value).slice(0, 80);
  // A lone surrogate is not Unicode text: JSON Schema strings never hold one, so it proves nothing here.
  const isText = (value: unknown) => typeof value !== 'string' || value.isWellFormed();

  test('H3: every value the document allows passes validation (parameters and bodies, probed at each bound)', () => {
    const ajv = new Ajv2020({ strict: true, validateFormats: false });
    let checked = 0;
    for (const route of app.routes) {
      const op = operation(doc, route.method, route.path);
      const label = `${route.method} ${route.path}`;
      for (const param of op.parameters ?? []) {
        const shape = (param.in === 'path' ? route.params : route.query) as z.ZodObject;
        const field = shape.shape[param.name] as z.ZodType;
        const allows = ajv.compile(param.schema);
        for (const value of probes(param.schema).filter((v) => allows(v))) {
          // Parameters travel as text: an integer 5 is sent as "5".
          const result = field.safeParse(String(value));
          assert.ok(result.success, `${label} ${param.in} ${param.name}=${describeValue(value)} is valid by the document, refused: ${result.error?.message}`);
          checked += 1;
        }
      }
      if (route.body === undefined) continue;
      const schema = bodySchema(doc, route.method, route.path);
      const allows = ajv.compile(schema);
      const properties = Object.entries(schema.properties ?? {});
      const fieldProbes = new Map(properties.map(([name, prop]) => [name, probes(prop).filter((v) => isText(v) && ajv.validate(prop, v))]));
      const base = Object.fromEntries(properties.map(([name]) => [name, fieldProbes.get(name)?.[0]]));
      const bodies: unknown[] = [{}, base];
      for (const [name] of properties) {
        bodies.push(Object.fromEntries(Object.entries(base).filter(([key]) => key !== name)));
        for (const value of fieldProbes.get(name) ?? []) bodies.push({ ...base, [name]: value });
      }
      for (const body of bodies.filter((b) => allows(b))) {
        const result = route.body.safeParse(body);
        assert.ok(result.success, `${label} body ${describeValue(body)} is valid by the document, refused: ${result.error?.message}`);
        checked += 1;
      }
    }
    assert.ok(checked > 500, `only ${checked} probes were valid by the document`);
  });

  test('H3: the password window in the document is the configured one', async () => {
    const strict = await startApp({ PASSWORD_MIN_LENGTH: '20' });
    const document = await openApi(strict);
    for (const [path, field] of [['/v1/auth/register', 'password'], ['/v1/auth/password', 'newPassword']] as const) {
      const stated = bodySchema(document, 'POST', path).properties?.[field];
      assert.equal(stated?.minLength, 20, `${path} ${field}`);
      assert.equal(stated.maxLength, MAX_PASSWORD_LENGTH, `${path} ${field}`);
    }
    assert.equal(bodySchema(doc, 'POST', '/v1/auth/register').properties?.password?.minLength, app.config.passwords.minLength);
  });

  test('H3: what the document says is what validation does (title maxLength, required fields)', async () => {
    const schema = bodySchema(doc, 'POST', '/v1/notes');
    const max = schema.properties?.title?.maxLength;
    assert.equal(typeof max, 'number');
    const at = await request(app, '/v1/notes', { method: 'POST', headers: user.headers, json: { title: 'x'.repeat(max ?? 0), body: 'b' } });
    assert.equal(at.status, 201);
    assertProblem(await request(app, '/v1/notes', { method: 'POST', headers: user.headers, json: { title: 'x'.repeat((max ?? 0) + 1), body: 'b' } }), 400);
    for (const field of schema.required ?? []) {
      const json = Object.fromEntries(Object.entries({ title: 't', body: 'b' }).filter(([key]) => key !== field));
      assertProblem(await request(app, '/v1/notes', { method: 'POST', headers: user.headers, json }), 400);
    }
  });

  test('H3: off in production; on again only when OPENAPI_ENABLED=true', async () => {
    const production = await startApp(PRODUCTION);
    assertProblem(await request(production, '/openapi.json'), 404);
    const enabled = await startApp({ ...PRODUCTION, OPENAPI_ENABLED: 'true' });
    assert.equal((await request(enabled, '/openapi.json')).status, 200);
    const disabled = await startApp({ OPENAPI_ENABLED: 'false' });
    assertProblem(await request(disabled, '/openapi.json'), 404);
  });
});

describe('H4: health and management endpoints reveal nothing', () => {
  const revealing = [
    process.version,
    `v${process.versions.node}`,
    pkg.version,
    'express',
    'postgres',
    'pglite',
    'redis',
    'uptime',
    'memory',
    'hostname',
  ];

  test('H4: /healthz and /readyz answer a bare status: no versions, no dependency details', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const res = await request(app, path);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'ok' });
      assert.equal(res.headers.get('server'), null);
      assert.equal(res.headers.get('x-powered-by'), null);
      for (const word of revealing) assert.ok(!res.text.toLowerCase().includes(word.toLowerCase()), `${path} reveals ${word}`);
    }
  });

  test('H4: a failing readiness check says 503 without naming what failed', async () => {
    app.db.failing = true;
    const res = await request(app, '/readyz');
    assertProblem(res, 503);
    for (const word of [...revealing, 'database', 'ECONNREFUSED', '5432']) assert.ok(!res.text.toLowerCase().includes(word.toLowerCase()), `reveals ${word}: ${res.text}`);
  });

  test('H4: no management endpoints on the public listener', async () => {
    for (const path of ['/metrics', '/debug', '/status', '/info', '/env', '/actuator', '/actuator/health', '/server-status', '/debug/pprof', '/admin', '/_health', '/version', '/.env', '/package.json']) {
      const res = await request(app, path);
      assert.ok(res.status === 404 || res.status === 401, `${path} → ${res.status}`);
      assert.ok(!res.text.includes(pkg.version), `${path} reveals the version`);
    }
  });
});
