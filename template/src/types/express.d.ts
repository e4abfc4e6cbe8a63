import type { Logger } from 'pino';
import type { AuthUser } from '../principal.ts';

declare global {
  namespace Express {
    interface Request {
      id: string;
      log: Logger;
      user?: AuthUser;
    }
    interface Locals {
      route?: string;
      throttleKey?: string;
      /** Only wrong credentials count: shed or malformed requests must not lock an account (D4). */
      credentialFailure?: boolean;
    }
  }
}
