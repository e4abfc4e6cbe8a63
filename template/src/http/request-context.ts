import { randomUUID } from 'node:crypto';
import type { Express, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logger.ts';

// Only short, plain ids are kept from the client: anything else could forge or break log lines (G3).
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,63}$/;

const STARTED = Symbol('started');
const IP = Symbol('ip');
type Timed = Request & { [STARTED]?: number; [IP]?: string | undefined };

/** One JSON line per request (G1), with the path but never the query string: it may carry secrets. */
export function requestContext(app: Express, logger: Logger): RequestHandler {
  // `req.log` is made on first use only: most requests log nothing but their one request line.
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: Request) {
      const log = logger.child({ reqId: this.id });
      Object.defineProperty(this, 'log', { value: log });
      return log;
    },
  });
  // Express derives `req.ip` from the socket and X-Forwarded-For (as far as TRUST_PROXY allows) on every
  // read; the limiters and the request line read it several times, so it is worked out once per request.
  const expressIp = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(app.request), 'ip');
  if (expressIp?.get !== undefined) {
    Object.defineProperty(app.request, 'ip', {
      configurable: true,
      get(this: Timed) {
        return (this[IP] ??= expressIp.get?.call(this) as string | undefined);
      },
    });
  }
  function logRequest(this: Response): void {
    const req = this.req as Timed;
    const entry = {
      reqId: req.id,
      method: req.method,
      route: this.locals.route ?? null,
      path: req.path.slice(0, 256),
      status: this.writableFinished ? this.statusCode : 499,
      latencyMs: Math.round((performance.now() - (req[STARTED] ?? 0)) * 100) / 100,
      ip: req.ip,
    };
    if (entry.status >= 500) logger.error(entry, 'request');
    else logger.info(entry, 'request');
  }
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    (req as Timed)[STARTED] = performance.now();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    res.on('close', logRequest);
    next();
  };
}
