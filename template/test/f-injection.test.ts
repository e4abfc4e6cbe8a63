// Baseline F: injection and data: parameterized SQL only, hostile input never reaches a 500, migrations
// are versioned, idempotent and safe for replicas starting together.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/open.ts';
import { migrate } from '../src/db/migrate.ts';
import { freshDatabase, shareApp, sharedDatabase, type TestApp } from './support/app.ts';
import { NEEDS_REDIS, PROJECT_DIR, testEnv, USING_POSTGRES } from './support/env.ts';
import { type JsonResponse, request } from './support/http.ts';
import { serverEnv, spawnServer } from './support/processes.ts';
import { strongPassword, type TestUser, wrongPassword } from './support/users.ts';

const PAYLOADS = [
  "' OR '1'='1",
  "' OR 1=1 --",
  '" OR ""="',
  "'; DROP TABLE notes; --",
  "1; SELECT pg_sleep(3); --",
  "' UNION SELECT password_hash, email, id::text, now(), now() FROM users --",
  '$1',
  '\\',
  "%' OR '%'='",
  "admin'--",
  '\u0000',
  'nul\u0000byte',
  '\ud800',
  "'||(SELECT current_user)||'",
  '{"$gt": ""}',
  '${7*7}',
];

let app: TestApp;
let user: TestUser;

shareApp((shared) => ({ app, user } = shared));

function assertNot500(res: JsonResponse, label: string): void {
  assert.ok(res.status < 500, `${label} → ${res.status}: ${res.text}`);
}

async function countRows(table: 'users' | 'notes'): Promise<number> {
  const { rows } = await app.db.inner.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? -1;
}

describe('F1: injection payloads → 400 or no match, never 500', () => {
  test('F1: in note titles and bodies: stored verbatim (or refused), never executed', { timeout: 60_000 }, async () => {
    for (const payload of PAYLOADS) {
      const started = performance.now();
      const res = await request<{ id: string; title: string; body: string }>(app, '/v1/notes', {
        method: 'POST',
        headers: user.headers,
        json: { title: `t ${payload}`, body: payload },
      });
      assertNot500(res, `note ${JSON.stringify(payload)}`);
      assert.ok(performance.now() - started < 2000, 'pg_sleep ran: the payload was executed');
      if (res.status === 201) {
        const back = await request<{ title: string; body: string }>(app, `/v1/notes/${res.body.id}`, { headers: user.headers });
        assert.equal(back.body.body, payload.replace('\ud800', '\ufffd'));
      } else {
        assert.equal(res.status, 400);
      }
    }
    // The tables are still there and nothing leaked into the list.
    const list = await request(app, '/v1/notes?limit=100', { headers: user.headers });
    assert.equal(list.status, 200);
    assert.doesNotMatch(list.text, /\$argon2/);
    assert.ok((await countRows('users')) >= 1);
  });

  test('F1: in a PATCH body', async () => {
    const note = await request<{ id: string }>(app, '/v1/notes', { method: 'POST', headers: user.headers, json: { title: 'patch me', body: 'b' } });
    for (const payload of PAYLOADS) {
      const res = await request(app, `/v1/notes/${note.body.id}`, { method: 'PATCH', headers: user.headers, json: { title: `p ${payload}` } });
      assertNot500(res, `patch ${JSON.stringify(payload)}`);
    }
  });

  test('F1: in login e-mail and password: 400 or 401, never a login', async () => {
    const users = await countRows('users');
    for (const payload of PAYLOADS) {
      for (const json of [
        { email: payload, password: wrongPassword() },
        { email: `${payload}@example.com`, password: wrongPassword() },
        { email: user.email, password: payload },
        { email: `${user.email}' --`, password: 'x' },
      ]) {
        const res = await request(app, '/v1/auth/login', { method: 'POST', json });
        assertNot500(res, `login ${JSON.stringify(json)}`);
        assert.ok(res.status === 400 || res.status === 401, `login ${JSON.stringify(json)} → ${res.status}`);
      }
    }
    assert.equal(await countRows('users'), users);
  });

  test('F1: in registration fields', async () => {
    for (const payload of PAYLOADS) {
      const res = await request(app, '/v1/auth/register', {
        method: 'POST',
        json: { email: `inj-${crypto.randomUUID()}@example.com`, password: strongPassword(), displayName: `x${payload}` },
      });
      assertNot500(res, `register displayName ${JSON.stringify(payload)}`);
      const byEmail = await request(app, '/v1/auth/register', {
        method: 'POST',
        json: { email: `${payload}@example.com`, password: strongPassword(), displayName: 'x' },
      });
      assertNot500(byEmail, `register email ${JSON.stringify(payload)}`);
    }
  });

  test('F1: in path ids, cursors, limits and refresh tokens → 400/401/404', async () => {
    for (const payload of PAYLOADS) {
      // A lone surrogate has no UTF-8 form: send its (invalid) CESU-8 bytes percent-encoded instead.
      const encoded = payload === '\ud800' ? '%ED%A0%80' : encodeURIComponent(payload);
      const responses = [
        await request(app, `/v1/notes/${encoded}`, { headers: user.headers }),
        await request(app, `/v1/notes/${encoded}`, { method: 'DELETE', headers: user.headers }),
        await request(app, `/v1/notes?cursor=${encoded}`, { headers: user.headers }),
        await request(app, `/v1/notes?cursor=1700000000000.${encoded}`, { headers: user.headers }),
        await request(app, `/v1/notes?limit=${encoded}`, { headers: user.headers }),
        await request(app, '/v1/auth/refresh', { method: 'POST', json: { refreshToken: payload } }),
      ];
      for (const res of responses) {
        assertNot500(res, JSON.stringify(payload));
        assert.ok([400, 401, 404].includes(res.status), `${JSON.stringify(payload)} → ${res.status}`);
      }
    }
  });

  test('F1 (static): every SQL statement in src is a constant; values travel as parameters', () => {
    // The detector itself catches both ways of building SQL from values...
    assert.ok(firstArguments('db.query(`SELECT * FROM notes WHERE id = ${id}`, [])').some(isBuilt));
    assert.ok(firstArguments("tx.query<Row>('SELECT * FROM users WHERE email = \\'' + email + '\\'')").some(isBuilt));
    assert.ok(!firstArguments("db.query('SELECT * FROM notes WHERE id = $1', [id])").some(isBuilt));
    // ...and finds neither in the sources.
    const offenders: string[] = [];
    for (const file of sourceFiles(join(PROJECT_DIR, 'src'))) {
      // eslint-disable-next-line security/detect-non-literal-fs-filename -- the project's own sources, listed above
      const source = readFileSync(file, 'utf8');
      for (const argument of firstArguments(source).filter(isBuilt)) offenders.push(`${relative(PROJECT_DIR, file)}: ${argument.literal.slice(0, 80)}`);
    }
    assert.deepEqual(offenders, []);
  });
});

/** Every .ts file under `dir`. */
function sourceFiles(dir: string): string[] {
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- walks the project's own src tree
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

interface SqlArgument {
  /** The string literal passed first, quotes included. */
  literal: string;
  /** What follows the literal. */
  rest: string;
}

/** The first argument of every `.query(` / `.query<T>(` / `.exec(` call that starts with a string literal. */
function firstArguments(source: string): SqlArgument[] {
  const found: SqlArgument[] = [];
  for (const method of ['.query', '.exec']) {
    for (let at = source.indexOf(method); at !== -1; at = source.indexOf(method, at + 1)) {
      let i = at + method.length;
      if (source[i] === '<') i = source.indexOf('>', i) + 1;
      if (source[i] !== '(') continue;
      i += 1;
      while (/\s/.test(source[i] ?? '')) i += 1;
      const quote = source[i];
      if (quote !== '`' && quote !== "'" && quote !== '"') continue;
      let end = i + 1;
      while (end < source.length && !(source[end] === quote && source[end - 1] !== '\\')) end += 1;
      found.push({ literal: source.slice(i, end + 1), rest: source.slice(end + 1, end + 40) });
    }
  }
  return found;
}

function isBuilt(argument: SqlArgument): boolean {
  return (argument.literal.startsWith('`') && argument.literal.includes('${')) || argument.rest.trimStart().startsWith('+');
}

describe('F3: migrations', () => {
  const migrationFiles = () =>
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- the project's own migrations directory
    readdirSync(join(PROJECT_DIR, 'src/db/migrations'))
      .filter((f) => f.endsWith('.sql'))
      .sort();

  test('F3: versioned files, applied in name order, each recorded once', async () => {
    const files = migrationFiles();
    assert.ok(files.length >= 1);
    for (const file of files) assert.match(file, /^[0-9]{4}_[a-z0-9_]+\.sql$/);
    const { db } = await sharedDatabase();
    const { rows } = await db.inner.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY applied_at, version');
    assert.deepEqual(rows.map((r) => r.version), files);
  });

  test('F3: running the migrations again applies nothing and keeps the data', async () => {
    const { db } = await sharedDatabase();
    const users = await countRows('users');
    assert.deepEqual(await migrate(db), []);
    assert.deepEqual(await migrate(db), []);
    assert.equal(await countRows('users'), users);
    assert.equal((await request(app, '/v1/users/me', { headers: user.headers })).status, 200);
  });

  test('F3: two migrators racing on an empty database apply each file exactly once', { timeout: 60_000 }, async () => {
    const fresh = await freshDatabase();
    const second = fresh.url === undefined ? fresh.db : await openDatabase(loadConfig(testEnv({ DATABASE_URL: fresh.url })));
    try {
      const [a, b] = await Promise.all([migrate(fresh.db), migrate(second)]);
      assert.deepEqual([...a, ...b].sort(), migrationFiles());
      const { rows } = await fresh.db.inner.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      assert.equal(rows[0]?.n, migrationFiles().length);
    } finally {
      if (second !== fresh.db) await second.close();
      await fresh.db.close();
      await fresh.drop();
    }
  });

  test('F3: `npm run migrate` twice in a row succeeds both times', { timeout: 90_000 }, async () => {
    const dir = USING_POSTGRES ? undefined : mkdtempSync(join(tmpdir(), 'migrate-cli-'));
    const fresh = USING_POSTGRES ? await freshDatabase() : undefined;
    try {
      const env = serverEnv(fresh?.url === undefined ? { PGLITE_DIR: dir } : { DATABASE_URL: fresh.url });
      for (let i = 0; i < 2; i += 1) {
        const child = spawn(process.execPath, ['src/db/migrate-cli.ts'], { cwd: PROJECT_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (c: Buffer) => (output += c.toString()));
        child.stderr.on('data', (c: Buffer) => (output += c.toString()));
        const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
        assert.equal(code, 0, output);
      }
    } finally {
      if (fresh !== undefined) {
        await fresh.db.close();
        await fresh.drop();
      }
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('F3: two server replicas starting at once on one empty PostgreSQL database both come up', { timeout: 90_000, skip: (!USING_POSTGRES && 'needs DATABASE_URL') || NEEDS_REDIS }, async () => {
    const fresh = await freshDatabase();
    const env = serverEnv({ DATABASE_URL: fresh.url });
    const replicas = await Promise.all([spawnServer(env), spawnServer(env)]);
    try {
      for (const replica of replicas) {
        assert.ok(replica.port !== undefined, `a replica failed to start:\n${replica.stdout.join('\n')}\n${replica.stderr.join('\n')}`);
        assert.equal((await request(replica, '/readyz')).status, 200);
      }
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
      await fresh.db.close();
      await fresh.drop();
    }
  });
});
