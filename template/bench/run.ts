// `npm run bench`: the hardened app against a bare Express 5 app (bench/bare.ts), side by side in one
// run, same Node, same kind of database, loopback only, every run bounded in time (about 90 s in all).
// Prints a markdown table (for the README), then the results as JSON. Exits non-zero only when the
// benchmark could not run or measured something else than intended (errors, throttled requests),
// never on a missed target.
//
// Options: --duration <s> (10) measured per app and route, split into --rounds <n> (4) that alternate
// between the two apps; --warmup <s> (3) per app and route first; --connections <n> (50).
// Database: DATABASE_URL set → both apps use that PostgreSQL (the bench user is deleted at the end)
// and the real app runs with NODE_ENV=production; unset → each app has its own in-memory PGlite and the real app runs with
// NODE_ENV=development, which PGlite requires (same middleware stack; OpenAPI route mounted).
// The real app logs at LOG_LEVEL=info into a file: request logging is part of what is measured.
// The login flood runs against a second instance confined to one CPU with `taskset` (where it exists and
// the machine has two or more CPUs), like a container limited to one CPU: argon2's threads and the event
// loop share that CPU, the load generator uses the others. Cold start: the hardened app started afresh
// several times (migrations already applied), process start to the first /readyz 200, median.
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { z } from 'zod';
import { request } from '../test/support/http.ts';
import { spawnServer, stopAll, type ServerProcess } from '../test/support/processes.ts';
import { newUser } from '../test/support/users.ts';

const TARGET_RATIO = 0.7;
const TARGET_P99_FACTOR = 2; // hardened p99 at most twice bare's
const TARGET_COLD_START_MS = 500; // production, PostgreSQL, migrations applied
const COLD_STARTS = 7;
const TARGET_FLOOD_P99_MS = 50;
const PROBE_RATE = 200; // GET /healthz per second during the login flood: a monitor plus light traffic

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
  },
});
const duration = positiveInt(args.duration, 'duration');
const rounds = positiveInt(args.rounds, 'rounds');
const warmup = positiveInt(args.warmup, 'warmup');
const connections = positiveInt(args.connections, 'connections');
const databaseUrl = process.env.DATABASE_URL === '' ? undefined : process.env.DATABASE_URL;

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Child processes: both apps run as processes of their own (test/support/processes.ts), stopped on
// exit, on error and on Ctrl-C; SIGINT, like Ctrl-C, skips the drain delay SIGTERM would wait for.
// ---------------------------------------------------------------------------------------------
const cannons = new Set<autocannon.Instance>();
const workDir = mkdtempSync(join(tmpdir(), 'bench-'));

process.once('exit', () => {
  rmSync(workDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping`);
    for (const instance of cannons) instance.stop();
    void stopAll('SIGINT').finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => {
    server.listen(0, '127.0.0.1', done);
  });
  const address = server.address();
  await new Promise<void>((done) => {
    server.close(() => {
      done();
    });
  });
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

// The real app's log: one file in this run's temporary directory, written by the app and read back
// here (pread at an offset, so the app's writes and the counting never interfere).
class LogFile {
  readonly fd: number;
  private offset = 0;

  constructor(name: string) {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- a fixed name inside this run's mkdtemp directory
    this.fd = openSync(join(workDir, name), 'w+');
  }

  /** Lines written since the last call: the bench checks that request logging really happened. */
  newLines(): number {
    const buffer = this.readNew();
    let lines = 0;
    for (const byte of buffer) if (byte === 10) lines++;
    return lines;
  }

  tail(): string {
    const size = fstatSync(this.fd).size;
    const buffer = Buffer.alloc(Math.min(size, 4096));
    readSync(this.fd, buffer, 0, buffer.length, size - buffer.length);
    return buffer.toString('utf8');
  }

  private readNew(): Buffer {
    const size = fstatSync(this.fd).size;
    const buffer = Buffer.alloc(size - this.offset);
    readSync(this.fd, buffer, 0, buffer.length, this.offset);
    this.offset = size;
    return buffer;
  }
}

// CPU time (user + system, all threads) a process has used, in ms, from Linux's /proc; undefined
// elsewhere. CPU per request does not depend on what else the machine runs, unlike req/s.
function cpuMs(pid: number): number | undefined {
  try {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- /proc entry of a child we spawned
    const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime: 100 ticks per second on Linux
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

interface Started {
  base: string;
  pid: number;
}

async function startApp(name: string, entry: string, env: NodeJS.ProcessEnv, port: number, log?: LogFile, prefix: string[] = []): Promise<Started> {
  const base = `http://127.0.0.1:${String(port)}`;
  const proc: ServerProcess = await spawnServer(env, { entry, prefix, readyUrl: `${base}/healthz`, ...(log === undefined ? {} : { stdoutFd: log.fd }) });
  if (proc.port === undefined || proc.child.pid === undefined) {
    const exit = await proc.exited;
    throw new Error(`the ${name} app did not become healthy (exit code ${String(exit.code)}):\n${log?.tail() ?? ''}${[...proc.stdout, ...proc.stderr].join('\n')}`);
  }
  return { base, pid: proc.child.pid };
}

async function call<T>(schema: z.ZodType<T>, app: Started, path: string, init: Parameters<typeof request>[2] = {}): Promise<T> {
  const res = await request({ url: app.base }, path, init);
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path} → ${String(res.status)}: ${res.text}`);
  return schema.parse(res.body);
}

/** Process start to the first /readyz 200, in ms (polled every 5 ms), then the process is stopped. */
async function coldStart(env: NodeJS.ProcessEnv): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const proc = await spawnServer({ ...env, PORT: String(port) }, { readyUrl: `http://127.0.0.1:${String(port)}/readyz`, pollMs: 5 });
  const elapsed = performance.now() - started;
  await proc.stop('SIGINT');
  if (proc.port === undefined) throw new Error(`cold start: /readyz never answered 200:\n${[...proc.stdout, ...proc.stderr].join('\n')}`);
  return elapsed;
}

/** `taskset -c <last CPU>` when taskset exists and there is a CPU left for the load generator. */
function oneCpu(): { prefix: string[]; cpu: number | undefined } {
  const count = cpus().length;
  if (count < 2 || spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status !== 0) return { prefix: [], cpu: undefined };
  return { prefix: ['taskset', '-c', String(count - 1)], cpu: count - 1 };
}

// ---------------------------------------------------------------------------------------------
// Load generation. Latencies come from every response (sub-millisecond, merged across rounds);
// autocannon's own histogram keeps whole milliseconds only.
// ---------------------------------------------------------------------------------------------
interface Sample {
  seconds: number;
  cpuMs: number | undefined;
  latencies: number[];
  statusCodes: Map<number, number>;
  errors: number;
  rounds: number[]; // req/s of each round: shows how steady the machine was
}

function newSample(): Sample {
  return { seconds: 0, cpuMs: 0, latencies: [], statusCodes: new Map(), errors: 0, rounds: [] };
}

function cannon(options: autocannon.Options, sample?: Sample, serverPid?: number): Promise<void> {
  const cpuBefore = serverPid === undefined ? undefined : cpuMs(serverPid);
  return new Promise((done, fail) => {
    const instance = autocannon(options, (error: unknown, result) => {
      cannons.delete(instance);
      if (error !== null && error !== undefined) {
        fail(error instanceof Error ? error : new Error('autocannon failed', { cause: error }));
        return;
      }
      if (sample !== undefined) {
        sample.seconds += result.duration;
        sample.errors += result.errors;
        sample.rounds.push(Math.round(result.requests.total / result.duration));
        const cpuAfter = serverPid === undefined ? undefined : cpuMs(serverPid);
        sample.cpuMs = sample.cpuMs === undefined || cpuBefore === undefined || cpuAfter === undefined ? undefined : sample.cpuMs + cpuAfter - cpuBefore;
      }
      done();
    });
    cannons.add(instance);
    if (sample !== undefined) {
      instance.on('response', (_client: unknown, statusCode: number, _bytes: number, milliseconds: number) => {
        sample.latencies.push(milliseconds);
        sample.statusCodes.set(statusCode, (sample.statusCodes.get(statusCode) ?? 0) + 1);
      });
    }
  });
}

interface Measure {
  rps: number;
  /** Server CPU time per request, in microseconds (Linux only). */
  cpuUsPerRequest: number | undefined;
  p50: number;
  p99: number;
  requests: number;
  statusCodes: Record<string, number>;
  errors: number;
  roundsRps: number[];
}

function summarize(sample: Sample): Measure {
  const sorted = Float64Array.from(sample.latencies).sort();
  const percentile = (p: number): number => {
    const value = sorted.at(Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return value === undefined ? Number.NaN : Math.round(value * 100) / 100;
  };
  return {
    rps: Math.round(sorted.length / sample.seconds),
    cpuUsPerRequest: sample.cpuMs === undefined || sorted.length === 0 ? undefined : Math.round((sample.cpuMs * 10_000) / sorted.length) / 10,
    p50: percentile(50),
    p99: percentile(99),
    requests: sorted.length,
    statusCodes: Object.fromEntries(sample.statusCodes),
    errors: sample.errors,
    roundsRps: sample.rounds,
  };
}

// Both apps warm up, then take turns in short rounds (bare, hardened, hardened, bare, ...), so that
// whatever else the machine is doing weighs on both alike.
async function compare(bareApp: Started, hardenedApp: Started, path: string, headers: Record<string, string>, afterWarmup: () => void) {
  const options = { headers, connections, pipelining: 1 };
  const bareUrl = `${bareApp.base}${path}`;
  const hardenedUrl = `${hardenedApp.base}${path}`;
  await cannon({ ...options, url: bareUrl, duration: warmup });
  await cannon({ ...options, url: hardenedUrl, duration: warmup });
  afterWarmup();
  const bare = newSample();
  const hardened = newSample();
  const roundSeconds = duration / rounds;
  for (let round = 0; round < rounds; round++) {
    const turns = [
      () => cannon({ ...options, url: bareUrl, duration: roundSeconds }, bare, bareApp.pid),
      () => cannon({ ...options, url: hardenedUrl, duration: roundSeconds }, hardened, hardenedApp.pid),
    ];
    if (round % 2 === 1) turns.reverse();
    for (const turn of turns) await turn();
  }
  return { bare: summarize(bare), hardened: summarize(hardened) };
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------
const problems: string[] = [];

function expectOnly2xx(label: string, m: Measure): void {
  const ok = Object.entries(m.statusCodes).reduce((sum, [code, count]) => sum + (code.startsWith('2') ? count : 0), 0);
  if (ok < m.requests || m.errors > 0) {
    problems.push(`${label}: ${String(m.requests - ok)} non-2xx responses, ${String(m.errors)} errors (${JSON.stringify(m.statusCodes)})`);
  }
}

const noteSchema = z.object({ id: z.string(), title: z.string() });

async function main(): Promise<void> {
  const [hardenedPort, barePort] = await Promise.all([freePort(), freePort()]);
  const nodeEnv = databaseUrl === undefined ? 'development' : 'production';
  const hardenedEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: nodeEnv,
    HOST: '127.0.0.1',
    PORT: String(hardenedPort),
    JWT_SECRET: randomBytes(48).toString('hex'),
    CORS_ORIGINS: 'https://app.example.com',
    LOG_LEVEL: 'info',
    // The limiters still count every request; they are only raised so that they never trip (the
    // per-account one, capped at 1000, over a 1 s window), and the login flood really hashes.
    RATE_LIMIT_GLOBAL_MAX: '1000000',
    RATE_LIMIT_AUTH_MAX: '1000000',
    LOGIN_FAILURES_MAX: '1000',
    LOGIN_FAILURES_WINDOW_SECONDS: '1',
  };
  delete hardenedEnv.PGLITE_DIR; // in memory, like the bare app; never touch a developer's data

  progress(`starting the hardened app (NODE_ENV=${nodeEnv}, ${databaseUrl === undefined ? 'PGlite in memory' : 'PostgreSQL'})`);
  const log = new LogFile('hardened.log');
  const hardened = await startApp('hardened', 'src/server.ts', hardenedEnv, hardenedPort, log);

  const { email, headers: auth } = await newUser({ url: hardened.base }, { displayName: 'Bench' });
  const title = 'Benchmark note';
  const body = 'The same row is read on every request.';
  const note = await call(noteSchema, hardened, '/v1/notes', { method: 'POST', json: { title, body }, headers: auth });

  progress('starting the bare app');
  const bareEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: nodeEnv,
    BARE_PORT: String(barePort),
    BENCH_NOTE_ID: note.id,
    BENCH_NOTE_TITLE: title,
    BENCH_NOTE_BODY: body,
  };
  const bare = await startApp('bare', 'bench/bare.ts', bareEnv, barePort);
  const bareNote = await call(noteSchema, bare, `/v1/notes/${note.id}`);
  const hardenedNote = await call(noteSchema, hardened, `/v1/notes/${note.id}`, { headers: auth });
  if (bareNote.title !== title || hardenedNote.title !== title) throw new Error('the two apps do not serve the same note');

  const routes = [
    { route: 'GET /healthz', path: '/healthz', headers: {} },
    { route: 'GET /v1/notes/:id (authenticated)', path: `/v1/notes/${note.id}`, headers: auth },
  ];
  const rows: Row[] = [];
  for (const { route, path, headers } of routes) {
    progress(`${route}: ${String(warmup)} s warm-up each, then ${String(duration)} s each in ${String(rounds)} alternating rounds`);
    const result = await compare(bare, hardened, path, headers, () => log.newLines());
    const lines = log.newLines();
    expectOnly2xx(`bare ${route}`, result.bare);
    expectOnly2xx(`hardened ${route}`, result.hardened);
    const ratio = result.hardened.rps / result.bare.rps;
    const bareCpu = result.bare.cpuUsPerRequest;
    const hardenedCpu = result.hardened.cpuUsPerRequest;
    rows.push({
      route,
      bare: result.bare,
      hardened: { ...result.hardened, logLinesPerRequest: Math.round((lines / result.hardened.requests) * 100) / 100 },
      ratio: Math.round(ratio * 1000) / 1000,
      cpuRatio: bareCpu === undefined || hardenedCpu === undefined ? undefined : Math.round((bareCpu / hardenedCpu) * 1000) / 1000,
      target: `>= ${String(TARGET_RATIO)}, p99 <= ${String(TARGET_P99_FACTOR)} x bare`,
      met: ratio >= TARGET_RATIO && result.hardened.p99 <= TARGET_P99_FACTOR * result.bare.p99,
    });
  }
  await stopAll('SIGINT'); // cold starts and the flood run with nothing else of ours running

  progress(`cold start: ${String(COLD_STARTS)} fresh starts of the hardened app, process start to /readyz 200`);
  const coldStarts: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) coldStarts.push(await coldStart(hardenedEnv));
  coldStarts.sort((a, b) => a - b);
  const coldStartMedian = Math.round(coldStarts[Math.floor(coldStarts.length / 2)] ?? Number.NaN);

  // Login flood: a good password, a wrong one and an unknown account (a dummy hash is verified), so
  // argon2id runs on every request that is not shed; meanwhile GET /healthz is probed at a steady rate,
  // first alone, then during the flood. A fresh instance, on one CPU; the load generator on the others.
  const confined = oneCpu();
  if (confined.cpu !== undefined) spawnSync('taskset', ['-a', '-p', '-c', `0-${String(confined.cpu - 1)}`, String(process.pid)], { stdio: 'ignore' });
  const floodPort = await freePort();
  progress(`starting the hardened app for the login flood${confined.cpu === undefined ? ' (not confined: no taskset or one CPU)' : ` on CPU ${String(confined.cpu)}`}`);
  const floodApp = await startApp('hardened (flood)', 'src/server.ts', { ...hardenedEnv, PORT: String(floodPort) }, floodPort, log, confined.prefix);
  const floodUser = await newUser({ url: floodApp.base }, { displayName: 'Bench' });
  log.newLines();
  const probeOptions = { url: `${floodApp.base}/healthz`, connections: 10, overallRate: PROBE_RATE, duration };
  progress(`GET /healthz at ${String(PROBE_RATE)} req/s alone, ${String(duration)} s`);
  const idle = newSample();
  await cannon(probeOptions, idle);
  const idleProbe = summarize(idle);
  expectOnly2xx('GET /healthz probe without flood', idleProbe);
  const login = (loginEmail: string, loginPassword: string): autocannon.Request => ({
    method: 'POST',
    path: '/v1/auth/login',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: loginEmail, password: loginPassword }),
  });
  progress(`login flood (${String(connections)} connections) with GET /healthz at ${String(PROBE_RATE)} req/s, ${String(duration)} s`);
  const logins = newSample();
  const flood = cannon(
    {
      url: floodApp.base,
      connections,
      duration: duration + 2,
      requests: [login(floodUser.email, floodUser.password), login(floodUser.email, `${floodUser.password}x`), login(`nobody-${randomUUID()}@example.com`, floodUser.password)],
    },
    logins,
  );
  await new Promise((done) => setTimeout(done, 1000)); // the hashing queue fills up first
  const during = newSample();
  await cannon(probeOptions, during);
  await flood;
  const floodProbe = summarize(during);
  const floodLogins = summarize(logins);
  expectOnly2xx('GET /healthz probe during the login flood', floodProbe);
  const hashed = (floodLogins.statusCodes['200'] ?? 0) + (floodLogins.statusCodes['401'] ?? 0);
  if (hashed === 0) problems.push(`login flood: no login was answered 200 or 401 (${JSON.stringify(floodLogins.statusCodes)})`);
  const floodLogLines = log.newLines();

  await stopAll('SIGINT');
  if (databaseUrl !== undefined) {
    // Leave the database as it was: the bench user goes, with its note and sessions (ON DELETE CASCADE).
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    await pool.query('DELETE FROM users WHERE email = ANY($1)', [[email, floodUser.email]]).finally(() => pool.end());
  }
  const results: Results = {
    environment: {
      node: process.version,
      cpus: `${String(cpus().length)} × ${cpus()[0]?.model.trim() ?? 'unknown'}`,
      database: databaseUrl === undefined ? 'PGlite in memory (one per app)' : 'PostgreSQL (DATABASE_URL, shared)',
      hardenedNodeEnv: nodeEnv,
      logLevel: 'info, written to a file',
      connections,
      warmupSeconds: warmup,
      durationSeconds: duration,
      rounds,
    },
    routes: rows,
    coldStart: {
      runsMs: coldStarts.map((ms) => Math.round(ms)),
      medianMs: coldStartMedian,
      target: databaseUrl === undefined ? 'only with DATABASE_URL (production)' : `<= ${String(TARGET_COLD_START_MS)} ms`,
      met: databaseUrl === undefined ? undefined : coldStartMedian <= TARGET_COLD_START_MS,
    },
    loginFlood: {
      confinedToCpu: confined.cpu,
      logins: floodLogins,
      healthzProbeRate: PROBE_RATE,
      healthzAlone: idleProbe,
      healthzDuringFlood: floodProbe,
      logLines: floodLogLines,
      target: `healthz p99 < ${String(TARGET_FLOOD_P99_MS)} ms`,
      met: floodProbe.p99 < TARGET_FLOOD_P99_MS,
    },
    problems,
  };
  process.stdout.write(`${markdown(results)}\n\n\`\`\`json\n${JSON.stringify(results, null, 2)}\n\`\`\`\n`);
  if (problems.length > 0) {
    for (const problem of problems) progress(`INVALID RUN: ${problem}`);
    process.exitCode = 1;
  }
}

interface Row {
  route: string;
  bare: Measure;
  hardened: Measure & { logLinesPerRequest: number };
  ratio: number;
  /** Bare CPU per request over hardened CPU per request: the ratio on a machine with nothing else running. */
  cpuRatio: number | undefined;
  target: string;
  met: boolean;
}

interface Results {
  environment: {
    node: string;
    cpus: string;
    database: string;
    hardenedNodeEnv: string;
    logLevel: string;
    connections: number;
    warmupSeconds: number;
    durationSeconds: number;
    rounds: number;
  };
  routes: Row[];
  coldStart: { runsMs: number[]; medianMs: number; target: string; met: boolean | undefined };
  loginFlood: {
    /** The CPU the flooded instance was confined to; undefined when it could not be confined. */
    confinedToCpu: number | undefined;
    logins: Measure;
    healthzProbeRate: number;
    healthzAlone: Measure;
    healthzDuringFlood: Measure;
    logLines: number;
    target: string;
    met: boolean;
  };
  problems: string[];
}

function markdown({ environment: env, routes, coldStart, loginFlood: flood }: Results): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  const ms = (value: number): string => value.toFixed(value < 10 ? 1 : 0);
  const mark = (met: boolean): string => (met ? 'PASS' : 'MISS');
  const out = [
    `Node ${env.node}, ${env.cpus}, ${env.database}; hardened app with NODE_ENV=${env.hardenedNodeEnv}, LOG_LEVEL=${env.logLevel}.`,
    `autocannon on loopback, ${n(env.connections)} connections; per route and app ${n(env.warmupSeconds)} s of warm-up, then ${n(env.durationSeconds)} s measured in ${n(env.rounds)} rounds alternating with the other app.`,
    'Server CPU µs/req: CPU time (user + system) of the app process per request; its ratio does not depend on what else the machine runs.',
    '',
    '| Route | App | req/s | p50 ms | p99 ms | server CPU µs/req | hardened / bare req/s | Target |',
    '|---|---|---:|---:|---:|---:|---:|---|',
  ];
  const cpu = (value: number | undefined): string => (value === undefined ? 'n/a' : value.toFixed(0));
  for (const row of routes) {
    const cpuRatio = row.cpuRatio === undefined ? '' : ` (CPU: ${row.cpuRatio.toFixed(2)})`;
    out.push(
      `| ${row.route} | bare | ${n(row.bare.rps)} | ${ms(row.bare.p50)} | ${ms(row.bare.p99)} | ${cpu(row.bare.cpuUsPerRequest)} | | |`,
      `| ${row.route} | hardened | ${n(row.hardened.rps)} | ${ms(row.hardened.p50)} | ${ms(row.hardened.p99)} | ${cpu(row.hardened.cpuUsPerRequest)} | **${row.ratio.toFixed(2)}**${cpuRatio} | ≥ ${String(TARGET_RATIO)}, p99 ≤ ${String(TARGET_P99_FACTOR)}× bare ${mark(row.met)} |`,
    );
  }
  const codes = Object.entries(flood.logins.statusCodes)
    .map(([code, count]) => `${code}: ${n(count)}`)
    .join(', ');
  out.push(
    '',
    `Cold start (process start to the first \`/readyz\` 200, migrations applied): median **${n(coldStart.medianMs)} ms** of ${n(coldStart.runsMs.length)} (${coldStart.runsMs.map(n).join(', ')}); target ${coldStart.met === undefined ? coldStart.target : `≤ ${String(TARGET_COLD_START_MS)} ms ${mark(coldStart.met)}`}.`,
    '',
    `| Login flood (argon2id, bounded hashing concurrency; app ${flood.confinedToCpu === undefined ? 'not confined' : 'confined to one CPU'}) | p50 ms | p99 ms | Target |`,
    '|---|---:|---:|---|',
    `| POST /v1/auth/login, ${n(env.connections)} connections: ${n(flood.logins.rps)} req/s (${codes}) | ${ms(flood.logins.p50)} | ${ms(flood.logins.p99)} | |`,
    `| GET /healthz at ${n(flood.healthzProbeRate)} req/s, no flood | ${ms(flood.healthzAlone.p50)} | ${ms(flood.healthzAlone.p99)} | |`,
    `| GET /healthz at ${n(flood.healthzProbeRate)} req/s during the flood | ${ms(flood.healthzDuringFlood.p50)} | **${ms(flood.healthzDuringFlood.p99)}** | < ${String(TARGET_FLOOD_P99_MS)} ms ${mark(flood.met)} |`,
    '',
    `Log lines written by the hardened app per request: ${routes.map((row) => `${row.route} ${row.hardened.logLinesPerRequest.toFixed(2)}`).join(', ')}.`,
  );
  return out.join('\n');
}

try {
  await main();
} catch (error) {
  progress(`failed: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll('SIGINT');
  process.exitCode = 1;
}
