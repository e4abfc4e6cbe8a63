import type { Logger } from 'pino';
import type { AuthUser } from '../features/auth/tokens.ts';

declare global {
  namespace Express {
    interface Request {
      /** The request id (validated or generated), echoed as X-Request-Id. */
      id: string;
      /** A logger bound to this request id. */
      log: Logger;
      /** The verified caller, set by the authentication middleware. */
      user?: AuthUser;
    }
    interface Locals {
      /** The route pattern (e.g. /v1/notes/:id) for the request log line. */
      route?: string;
      /** The account key the login-failure throttle counts against. */
      throttleKey?: string;
      /** Set when the request presented wrong credentials: the only thing the account throttle counts. */
      credentialFailure?: boolean;
    }
  }
}
