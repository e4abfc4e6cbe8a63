import express, { type Express } from 'express';
import pkg from '../package.json' with { type: 'json' };
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import { adminRoutes } from './features/admin/routes.ts';
import { createAuthenticate } from './features/auth/middleware.ts';
import { createPasswordHasher } from './features/auth/passwords.ts';
import { authRoutes } from './features/auth/routes.ts';
import { createAuthService } from './features/auth/service.ts';
import { createSessionCache } from './features/auth/session-cache.ts';
import { accountKey, createAccountThrottle } from './features/auth/throttle.ts';
import { createTokenService } from './features/auth/tokens.ts';
import { healthRoutes } from './features/health/routes.ts';
import { createHealthService } from './features/health/service.ts';
import { noteRoutes } from './features/notes/routes.ts';
import { createNoteService } from './features/notes/service.ts';
import { userRoutes } from './features/users/routes.ts';
import { createUserService } from './features/users/service.ts';
import { bodyParsers } from './http/body.ts';
import { cors } from './http/cors.ts';
import { errorHandler, notFound } from './http/errors.ts';
import { buildOpenApi } from './http/openapi.ts';
import { parseQuery } from './http/query.ts';
import { createAuthLimiter, createGlobalLimiter, memoryStores, type RateLimitStores } from './http/rate-limit.ts';
import { defineRoute, mountRoutes, type Access, type Route } from './http/registry.ts';
import { requestContext } from './http/request-context.ts';
import { securityHeaders } from './http/security-headers.ts';
import type { Logger } from './logger.ts';

export interface AppState {
  /** Set on SIGTERM: readiness turns 503 and connections are closed after their response (I1). */
  shuttingDown: boolean;
}

export interface AppDeps {
  config: Config;
  logger: Logger;
  db: Database;
  rateLimitStores?: RateLimitStores;
  state: AppState;
}

export interface RouteEntry extends Pick<Route, 'params' | 'query' | 'body'> {
  method: string;
  path: string;
  access: Access;
}

// Deny by default: only these routes skip authentication, and createApp refuses any other public one (E1).
export const PUBLIC_ROUTES: readonly string[] = [
  'GET /healthz',
  'GET /readyz',
  'GET /openapi.json',
  'POST /v1/auth/register',
  'POST /v1/auth/login',
  'POST /v1/auth/refresh',
];

function openApiRoute(routes: () => readonly Route[]): Route {
  let document: unknown;
  return defineRoute({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document (OpenAPI 3.1)',
    tag: 'docs',
    access: 'public',
    responses: { 200: { description: 'The OpenAPI document' } },
    handler: () => {
      document ??= buildOpenApi(routes(), { title: pkg.name, version: pkg.version, description: pkg.description });
      return Promise.resolve({ status: 200, body: document });
    },
  });
}

export function createApp(deps: AppDeps): Express {
  const { config, logger, db, state } = deps;
  const stores = deps.rateLimitStores ?? memoryStores();

  const hasher = createPasswordHasher({
    concurrency: config.passwords.hashConcurrency,
    queueMax: config.passwords.hashQueueMax,
  });
  const tokens = createTokenService(config);
  const sessions = createSessionCache(config.jwt.sessionCacheMs);
  const users = createUserService(db);
  const routes: Route[] = [
    ...healthRoutes(createHealthService({ db, state, checks: [() => stores.ping()] })),
    ...authRoutes(createAuthService({ config, db, hasher, tokens, sessions }), config.passwords),
    ...userRoutes(users),
    ...noteRoutes(createNoteService(db)),
    ...adminRoutes(users),
  ];
  // No API map for attackers in production unless OPENAPI_ENABLED asks for it (H3).
  if (config.openapiEnabled) routes.push(openApiRoute(() => routes));
  for (const route of routes) {
    const name = `${route.method.toUpperCase()} ${route.path}`;
    if (route.access === 'public' && !PUBLIC_ROUTES.includes(name)) throw new Error(`${name} is public but not in PUBLIC_ROUTES`);
  }

  const app = express();
  // No framework fingerprint (B1); Express's own fallback error page never shows a stack (B3).
  app.disable('x-powered-by');
  app.set('env', 'production');
  app.set('etag', false);
  // A hop count or proxy list from configuration, never `true`: clients cannot forge their IP (H2).
  app.set('trust proxy', config.trustProxy);
  // Flat, capped query parsing: no nested objects, no prototype keys (A5).
  app.set('query parser', parseQuery);

  // Order matters: the request id and headers come first so that every response, errors included, carries them.
  app.use(requestContext(app, logger));
  app.use(securityHeaders(state));
  app.use(cors(config));
  app.use(createGlobalLimiter(config, stores, logger));

  const parsers = bodyParsers(config);
  mountRoutes(app, routes, {
    authenticate: createAuthenticate(tokens, db, sessions),
    authLimiter: createAuthLimiter(config, stores, logger),
    accountThrottle: createAccountThrottle(config, stores, logger),
    accountKey,
    requireJson: parsers.requireJson,
    parseJson: parsers.parseJson,
  });
  app.use(notFound);
  app.use(errorHandler);

  app.locals.routes = routes.map((route): RouteEntry => ({
    method: route.method.toUpperCase(),
    path: route.path,
    access: route.access,
    params: route.params,
    query: route.query,
    body: route.body,
  }));
  return app;
}

export function routeTable(app: Express): readonly RouteEntry[] {
  return app.locals.routes as RouteEntry[];
}
