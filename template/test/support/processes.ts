// The real server process (`node src/server.ts`, or another entry such as the bench's bare app), stopped
// at the end of its test file, on exit, and by the bench on Ctrl-C.
import { type ChildProcess, spawn } from 'node:child_process';
import { PROJECT_DIR, testEnv } from './env.ts';
import { parseJsonLines, type LogLine } from './logs.ts';

export interface ServerProcess {
  child: ChildProcess;
  /** Every stdout/stderr line so far (stdout stays empty when it goes to a file). */
  stdout: string[];
  stderr: string[];
  /** Set once the process is ready; undefined if it exited first. */
  port: number | undefined;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Parsed JSON log lines (stdout). */
  logs: () => LogLine[];
  /** SIGTERM (the orchestrator's stop) by default; SIGKILL after 15 s. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

export interface SpawnOptions {
  /** The script to run, relative to the project: the service itself unless told otherwise. */
  entry?: string;
  nodeArgs?: string[];
  timeoutMs?: number;
  /** Sends stdout to this file descriptor (a log file) instead of collecting its lines. */
  stdoutFd?: number;
  /** Ready once this URL answers 2xx, instead of once a "listening" log line names the port. */
  readyUrl?: string;
  /** How often readyUrl is polled (default 100 ms). */
  pollMs?: number;
  /** A command that runs Node, e.g. `taskset -c 1`. */
  prefix?: string[];
}

const running = new Set<ServerProcess>();
process.once('exit', killAll);

/** Kills every process still running: one left by a test that timed out would keep node --test alive. */
export function killAll(): void {
  for (const proc of running) proc.child.kill('SIGKILL');
}

/** Stops every process still running, like `stop(signal)` on each. */
export async function stopAll(signal?: NodeJS.Signals): Promise<void> {
  await Promise.all([...running].map((proc) => proc.stop(signal)));
}

/** The environment of a spawned server: nothing inherited but PATH, so a test sees exactly what it sets. */
export function serverEnv(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  const merged = {
    PATH: process.env.PATH,
    ...testEnv(),
    // Stops are quick unless a test asks for the load-balancer drain delay (I1).
    SHUTDOWN_DELAY_SECONDS: '0',
    DATABASE_URL: undefined,
    ...overrides,
  };
  for (const [key, value] of Object.entries(merged)) if (value !== undefined) env[key] = value;
  return env;
}

/**
 * Spawns `node [...nodeArgs] <entry>` with exactly `env`. Resolves once the process is ready (a log line
 * says it is listening, or `readyUrl` answers; then `port` is set) or once it exits, whichever comes first.
 */
export async function spawnServer(env: Record<string, string | undefined>, options: SpawnOptions = {}): Promise<ServerProcess> {
  const argv = [...(options.prefix ?? []), process.execPath, ...(options.nodeArgs ?? []), options.entry ?? 'src/server.ts'];
  const child: ChildProcess = spawn(argv[0] ?? process.execPath, argv.slice(1), { cwd: PROJECT_DIR, env, stdio: ['ignore', options.stdoutFd ?? 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, signal) => {
      running.delete(proc);
      done({ code, signal });
    });
  });
  const proc: ServerProcess = {
    child,
    stdout,
    stderr,
    port: undefined,
    url: '',
    exited,
    logs: () => parseJsonLines(stdout),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  running.add(proc);
  const ready = (port: number) => {
    proc.port = port;
    proc.url = `http://127.0.0.1:${port}`;
  };
  const listening = new Promise<void>((done) => {
    const onLine = (line: string) => {
      const entry = parseJsonLines([line])[0];
      if (options.readyUrl === undefined && entry !== undefined && /listening/i.test(String(entry.msg)) && typeof entry.port === 'number') {
        ready(entry.port);
        done();
      }
    };
    lineReader(child.stdout, stdout, onLine);
    lineReader(child.stderr, stderr, () => undefined);
    void exited.then(() => done());
    if (options.readyUrl !== undefined) void pollUntilReady(options.readyUrl, child, options.pollMs ?? 100).then((port) => {
      if (port !== undefined) ready(port);
      done();
    });
  });
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    listening,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`server neither listened nor exited within ${timeoutMs} ms:\n${stdout.join('\n')}\n${stderr.join('\n')}`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return proc;
}

/** The port of `url` once it answers 2xx; undefined if the process exits first. */
async function pollUntilReady(url: string, child: ChildProcess, pollMs: number): Promise<number | undefined> {
  while (child.exitCode === null && child.signalCode === null) {
    try {
      if ((await fetch(url)).ok) return Number(new URL(url).port);
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, pollMs));
  }
  return undefined;
}

function lineReader(stream: NodeJS.ReadableStream | null, sink: string[], onLine: (line: string) => void): void {
  if (stream === null) return;
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      sink.push(line);
      onLine(line);
      newline = buffer.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buffer !== '') {
      sink.push(buffer);
      onLine(buffer);
    }
  });
}

/** Resolves with the exit of a process that is expected to stop by itself within `timeoutMs`. */
export async function waitForExit(proc: ServerProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      proc.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
