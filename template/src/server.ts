import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { resolve } from 'node:path';
import type { Express } from 'express';
import type { DestinationStream } from 'pino';
import { createApp, type AppState } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDatabase } from './db/open.ts';
import { migrate } from './db/migrate.ts';
import { createServer, STATUS_CODES } from './http/node-http.ts';
import { createRateLimitStores } from './http/rate-limit-store.ts';
import { createLogger, type Logger } from './logger.ts';

export interface RunningServer {
  config: Config;
  server: Server;
  app: Express;
  logger: Logger;
  state: AppState;
  port: number;
  url: string;
  /** Graceful stop (I1): readiness 503 first, then no new connections; in-flight requests finish. */
  shutdown: (reason?: string, delayMs?: number) => Promise<void>;
}

export interface StartOptions {
  destination?: DestinationStream;
}

export async function start(env: Record<string, string | undefined> = process.env, options: StartOptions = {}): Promise<RunningServer> {
  const config = loadConfig(env);
  const logger = createLogger(config, options.destination);
  const db = await openDatabase(config);
  let stores;
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    stores = await createRateLimitStores(config, logger);
  } catch (err) {
    await db.close();
    throw err;
  }
  const state: AppState = { shuttingDown: false };
  const app = createApp({ config, logger, db, rateLimitStores: stores, state });

  // Explicit timeouts cut off slowloris clients and idle keep-alive sockets (A9); checked every 1 s, not 30 s.
  const server = createServer(
    {
      headersTimeout: config.server.headersTimeoutMs,
      requestTimeout: config.server.requestTimeoutMs,
      keepAliveTimeout: config.server.keepAliveTimeoutMs,
      connectionsCheckingInterval: 1000,
      maxHeaderSize: 16 * 1024,
      requireHostHeader: true,
    },
    app,
  );
  server.maxHeadersCount = 100;
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = config.server.keepAliveTimeoutMs;

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ host: config.host, port }, 'listening');

  let stopping: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown', delayMs = 0): Promise<void> =>
    (stopping ??= (async () => {
      // Phase 1: readiness 503 with the listener still open, so load balancers drain us first (I1).
      state.shuttingDown = true;
      const graceMs = config.server.shutdownGraceMs;
      const startedAt = Date.now();
      logger.info({ reason, delayMs, graceMs }, 'shutting down');
      // Connections still open near the end of the grace period are cut, leaving time to close the pool.
      const deadline = setTimeout(() => {
        logger.warn('grace period nearly over: closing remaining connections');
        server.closeAllConnections();
      }, graceMs - Math.min(1000, graceMs / 2));
      if (delayMs > 0) await new Promise((resolveDelay) => setTimeout(resolveDelay, delayMs));
      // Phase 2: no new connections; idle keep-alive sockets close, busy ones after their response.
      const closed = new Promise<void>((resolveClose) => server.close(() => { resolveClose(); }));
      const sweep = setInterval(() => { server.closeIdleConnections(); }, 100);
      server.closeIdleConnections();
      await closed;
      clearInterval(sweep);
      clearTimeout(deadline);
      // Phase 3: release the database pool and the rate-limit store, within what is left of the grace period.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => { reject(new Error('closing the database and the rate-limit store timed out')); }, Math.max(0, startedAt + graceMs - Date.now()));
      });
      await Promise.race([Promise.allSettled([db.close(), stores.close()]), timedOut]).finally(() => { clearTimeout(timer); });
      logger.info('stopped');
    })());

  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { config, server, app, logger, state, port, url: `http://${host}:${port}`, shutdown };
}

const CLIENT_ERRORS: Record<string, number> = { ERR_HTTP_REQUEST_TIMEOUT: 408, HPE_HEADER_OVERFLOW: 431 };

// Requests Node rejects itself still get problem+json and the security headers, never the bare default (B1, B3).
function answerClientError(err: Error & { code?: string }, socket: Duplex & { bytesWritten?: number }): void {
  // Like Node's default: answer only if nothing was written on this connection yet, then always close it.
  if (socket.writable && socket.bytesWritten === 0 && err.code !== 'ECONNRESET') {
    const status = CLIENT_ERRORS[err.code ?? ''] ?? 400;
    const body = JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status], status });
    socket.write(
      [
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
        'Content-Type: application/problem+json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'",
        'Strict-Transport-Security: max-age=31536000; includeSubDomains',
        'X-Content-Type-Options: nosniff',
        'Referrer-Policy: no-referrer',
        'Cache-Control: no-store',
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  }
  socket.destroy();
}

function writeFatal(message: string, err?: unknown): void {
  const error = err instanceof Error ? { type: err.name, message: err.message } : undefined;
  process.stderr.write(`${JSON.stringify({ level: 'fatal', time: new Date().toISOString(), msg: message, err: error })}\n`);
}

async function main(): Promise<void> {
  const current: { logger?: Logger } = {};
  // A crash leaves one fatal line and a non-zero exit; the orchestrator restarts a clean process (I3).
  let dying = false;
  const die = (err: unknown, message: string) => {
    if (dying) return;
    dying = true;
    process.exitCode = 1;
    const { logger } = current;
    if (logger === undefined) {
      writeFatal(message, err);
      process.exit(1);
    }
    logger.fatal({ err }, message);
    logger.flush(() => process.exit(1));
    setTimeout(() => process.exit(1), 1000).unref();
  };
  process.on('uncaughtException', (err) => { die(err, 'uncaught exception'); });
  process.on('unhandledRejection', (reason) => { die(reason, 'unhandled rejection'); });

  let running: RunningServer;
  try {
    running = await start(process.env);
  } catch (err) {
    // Invalid configuration: exit non-zero before listening, naming variables but never values (H1).
    if (err instanceof ConfigError) writeFatal(err.message);
    else writeFatal('startup failed', err);
    process.exit(1);
  }
  const { config, logger, shutdown } = running;
  current.logger = logger;

  // SIGTERM (orchestrator) drains for SHUTDOWN_DELAY_SECONDS first; SIGINT (Ctrl-C) stops at once.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // A hung shutdown must not outlive the orchestrator's grace period: a fatal line and exit 1 first (I1).
      setTimeout(() => { die(new Error('shutdown exceeded SHUTDOWN_GRACE_SECONDS'), 'shutdown timed out'); }, config.server.shutdownGraceMs).unref();
      void shutdown(signal, signal === 'SIGTERM' ? config.server.shutdownDelayMs : 0).then(
        () => { logger.flush(() => process.exit(0)); },
        (err: unknown) => { die(err, 'shutdown failed'); },
      );
    });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === import.meta.filename) {
  await main();
}
