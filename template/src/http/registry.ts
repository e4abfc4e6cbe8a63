import type { Express, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { securityEvent } from '../logger.ts';
import type { AuthUser } from '../principal.ts';
import { HttpError, type FieldError } from './errors.ts';

/** Who may call a route. Anything not marked 'public' needs a valid access token (E1). */
export type Access = 'public' | 'user' | 'admin';
export type Method = 'get' | 'post' | 'patch' | 'delete';

const NO_INPUT = z.strictObject({});
type NoInput = typeof NO_INPUT;
type Output<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteContext<P, Q, B, A extends Access> {
  params: P;
  query: Q;
  body: B;
  user: A extends 'public' ? undefined : AuthUser;
  req: Request;
  res: Response;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType | undefined, A extends Access> {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  /** Defaults to 'user': a route is public only when it says so (deny by default, E1). */
  access?: A;
  /** Strict schemas: unknown fields are 400s (A8). Missing params/query schemas accept nothing. */
  params?: P;
  query?: Q;
  body?: B;
  /** Adds the stricter per-client limiter for credential endpoints (D4). */
  authLimited?: boolean;
  /** Counts failed requests per account under this key (D4). */
  throttleKey?: (input: { body: Output<B>; user: RouteContext<unknown, unknown, unknown, A>['user'] }) => string;
  responses: Record<number, ResponseSpec>;
  handler: (ctx: RouteContext<Output<P>, Output<Q>, Output<B>, A>) => Promise<Reply>;
}

export interface Route {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params: z.ZodType;
  query: z.ZodType;
  body: z.ZodType | undefined;
  authLimited: boolean;
  throttleKey: ((input: { body: unknown; user: AuthUser | undefined }) => string) | undefined;
  responses: Record<number, ResponseSpec>;
  handler: (ctx: RouteContext<unknown, unknown, unknown, Access>) => Promise<Reply>;
}

export function defineRoute<
  P extends z.ZodType = NoInput,
  Q extends z.ZodType = NoInput,
  B extends z.ZodType | undefined = undefined,
  A extends Access = 'user',
>(spec: RouteSpec<P, Q, B, A>): Route {
  return {
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tag: spec.tag,
    access: spec.access ?? 'user',
    params: spec.params ?? NO_INPUT,
    query: spec.query ?? NO_INPUT,
    body: spec.body,
    authLimited: spec.authLimited ?? false,
    throttleKey: spec.throttleKey as Route['throttleKey'],
    responses: spec.responses,
    handler: spec.handler as Route['handler'],
  };
}

export interface RouteMiddleware {
  authenticate: (access: 'user' | 'admin') => RequestHandler;
  authLimiter: RequestHandler;
  accountThrottle: RequestHandler;
  accountKey: (value: string) => string;
  requireJson: RequestHandler;
  parseJson: RequestHandler[];
}

interface ValidatedInput {
  params: unknown;
  query: unknown;
  body: unknown;
}

const INPUT = Symbol('input');
type Validated = Request & { [INPUT]?: ValidatedInput };
const NO_VALIDATED_INPUT: ValidatedInput = { params: {}, query: {}, body: undefined };

function collect(schema: z.ZodType, value: unknown, location: FieldError['location'], errors: FieldError[]): unknown {
  // Nothing expected and nothing sent (every GET without parameters): there is nothing to check.
  if (schema === NO_INPUT && typeof value === 'object' && value !== null && Object.keys(value).length === 0) return {};
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    // Messages come from our schemas and zod's wording; the rejected value is never echoed.
    errors.push({ location, path: issue.path.join('.'), message: issue.message });
  }
  return undefined;
}

function validate(route: Route): RequestHandler {
  return (req, _res, next) => {
    const errors: FieldError[] = [];
    const params = collect(route.params, req.params, 'params', errors);
    const query = collect(route.query, req.query, 'query', errors);
    const body = route.body === undefined ? undefined : collect(route.body, req.body, 'body', errors);
    if (errors.length > 0) {
      securityEvent(req.log, 'validation.rejected', {
        route: route.path,
        fields: errors.slice(0, 10).map((e) => (e.path === '' ? e.location : `${e.location}.${e.path}`)),
      });
      next(new HttpError(400, 'The request is invalid', { errors: errors.slice(0, 20) }));
      return;
    }
    (req as Validated)[INPUT] = { params, query, body };
    next();
  };
}

function handle(route: Route): RequestHandler {
  return async (req, res) => {
    const input = (req as Validated)[INPUT] ?? NO_VALIDATED_INPUT;
    const reply = await route.handler({ ...input, user: req.user, req, res });
    if (reply.headers !== undefined) for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
    res.statusCode = reply.status;
    if (reply.body === undefined) {
      res.end();
      return;
    }
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(reply.body));
  };
}

function chain(route: Route, mw: RouteMiddleware): RequestHandler[] {
  const handlers: RequestHandler[] = [];
  if (route.authLimited) handlers.push(mw.authLimiter);
  // Authentication comes before any body is read: anonymous clients cannot make us parse JSON.
  if (route.access !== 'public') handlers.push(mw.authenticate(route.access));
  handlers.push(mw.requireJson);
  if (route.body !== undefined) handlers.push(...mw.parseJson);
  handlers.push(validate(route));
  const { throttleKey } = route;
  if (throttleKey !== undefined) {
    handlers.push((req, res, next) => {
      const input = (req as Validated)[INPUT];
      res.locals.throttleKey = mw.accountKey(throttleKey({ body: input?.body, user: req.user }));
      next();
    }, mw.accountThrottle);
  }
  handlers.push(handle(route));
  const [first, ...rest] = handlers as [RequestHandler, ...RequestHandler[]];
  const tagged: RequestHandler = (req, res, next) => {
    res.locals.route = route.path;
    return first(req, res, next);
  };
  return [tagged, ...rest];
}

/** Any other method on a known path is a 405 with `Allow`, so TRACE never echoes a request back (A7). */
export function mountRoutes(app: Express, routes: readonly Route[], mw: RouteMiddleware): void {
  const byPath = new Map<string, Route[]>();
  for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
  for (const [path, group] of byPath) {
    const methods = group.map((r) => r.method.toUpperCase());
    const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
    const target = app.route(path);
    for (const route of group) target[route.method](...chain(route, mw));
    target.all((req, res, next) => {
      res.locals.route = path;
      res.setHeader('Allow', allow);
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
      next(new HttpError(405, `This path accepts: ${allow}`));
    });
  }
}
