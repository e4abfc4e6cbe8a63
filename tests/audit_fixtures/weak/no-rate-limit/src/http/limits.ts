import type { RequestHandler } from 'express';

export const limiter: RequestHandler = (_req, _res, next) => next();
export const authLimiter: RequestHandler = (_req, _res, next) => next();
