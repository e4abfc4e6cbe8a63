import { createServer } from 'node:http';
import { createApp } from './app.js';
import { config } from './config.ts';
import pool from './db.cjs';
import logging from './logger.cjs';

const { logger } = logging;

// A crash is logged as fatal and ends the process; the orchestrator restarts a clean one (I3).
process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'uncaught exception');
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  logger.fatal({ err: reason }, 'unhandled rejection');
  process.exit(1);
});

// Explicit timeouts cut off slow-header and idle clients (A9).
const server = createServer(
  { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 },
  createApp(),
);
server.listen(config.PORT, () => logger.info({ port: config.PORT }, 'listening'));

// No new connections, in-flight requests finish, then the pool closes (I1).
process.once('SIGTERM', () => {
  setTimeout(() => process.exit(1), 10_000).unref();
  server.close(() => {
    void pool.end().then(() => process.exit(0));
  });
});
