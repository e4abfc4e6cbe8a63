import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { DatabaseUnavailableError } from '../db/database.ts';
import { STATUS_CODES } from './node-http.ts';

export interface FieldError {
  location: 'body' | 'query' | 'params';
  path: string;
  message: string;
  code?: string;
}

interface HttpErrorOptions {
  errors?: FieldError[];
  headers?: Record<string, string>;
}

export class HttpError extends Error {
  readonly status: number;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, detail?: string, options: HttpErrorOptions = {}) {
    super(detail ?? STATUS_CODES[status] ?? 'Error');
    this.name = 'HttpError';
    this.status = status;
    this.detail = detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

/** A dependency (database, rate-limit store, hashing queue) cannot serve now: 503 with Retry-After (I4). */
export class ServiceUnavailableError extends HttpError {
  constructor(detail = 'The service is temporarily unavailable', retryAfterSeconds = 5) {
    super(503, detail, { headers: { 'Retry-After': String(retryAfterSeconds) } });
    this.name = 'ServiceUnavailableError';
  }
}

export function sendProblem(req: Request, res: Response, error: HttpError): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.status(error.status).type('application/problem+json').json({
    type: 'about:blank',
    title: STATUS_CODES[error.status] ?? 'Error',
    status: error.status,
    ...(error.detail === undefined ? {} : { detail: error.detail }),
    requestId: req.id,
    ...(error.errors === undefined ? {} : { errors: error.errors }),
  });
}

// body-parser reports its failures with a `type`; only our own wording reaches the client (A1–A3, B3).
const BODY_ERRORS: Record<string, [number, string]> = {
  'entity.too.large': [413, 'The request body is too large'],
  'entity.parse.failed': [400, 'The request body is not valid JSON'],
  'encoding.unsupported': [415, 'Unsupported content encoding'],
  'charset.unsupported': [415, 'Unsupported charset: use UTF-8'],
  'request.aborted': [400, 'The request was aborted'],
  'request.size.invalid': [400, 'The request body does not match its Content-Length'],
};

function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  // A lost database is a retryable outage, not a bug: 503 with Retry-After (I4).
  if (err instanceof DatabaseUnavailableError) return new ServiceUnavailableError(err.message);
  if (typeof err !== 'object' || err === null) return undefined;
  const { type, status } = err as { type?: unknown; status?: unknown };
  const known = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
  if (known !== undefined) return new HttpError(known[0], known[1]);
  // Other client errors raised by Express itself (e.g. a malformed %-escape in the path): status only.
  if (typeof status === 'number' && status >= 400 && status < 500) return new HttpError(status);
  return undefined;
}

export const notFound: RequestHandler = (req, res) => {
  sendProblem(req, res, new HttpError(404, 'No resource at this path'));
};

/** The one error boundary: a fixed problem+json shape, never a stack, SQL, path or library name (B3). */
export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  let problem = toHttpError(err);
  if (problem === undefined) {
    req.log.error({ err }, 'unhandled error');
    problem = new HttpError(500, 'An unexpected error occurred');
  } else if (problem.status >= 500) {
    req.log.warn({ detail: problem.detail }, 'service unavailable');
  }
  sendProblem(req, res, problem);
};
