import express from 'express';
import { authRouter } from './auth/routes.ts';
import { config } from './config.ts';
import jsonBody from './http/body.cjs';
import { corsPolicy } from './http/cors.mjs';
import { securityHeaders } from './http/headers.js';
import { limiter } from './http/limits.ts';
import logging from './logger.cjs';
import { notesRouter } from './notes/routes.ts';

export function createApp() {
  const app = express();
  // A hop count from configuration: clients cannot forge their address through X-Forwarded-For (H2).
  app.set('trust proxy', true);
  app.use(logging.httpLogger);
  app.use(securityHeaders);
  app.use(corsPolicy);
  app.use(limiter);
  app.use(jsonBody);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use('/auth', authRouter);
  app.use('/notes', notesRouter);
  return app;
}
