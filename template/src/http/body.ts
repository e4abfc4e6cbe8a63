import type { IncomingHttpHeaders } from 'node:http';
import express, { type RequestHandler } from 'express';
import type { Config } from '../config.ts';
import { HttpError } from './errors.ts';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 16;

function hasBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] ?? '0') !== '0';
}

function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}

// A body in any other type is refused before a byte is parsed (A2): no form, multipart or XML parsers exist here.
const requireJson: RequestHandler = (req, _res, next) => {
  if (hasBody(req.headers) && !isJson(req.headers['content-type'])) {
    next(new HttpError(415, 'Send the body as application/json'));
    return;
  }
  next();
};

function findViolation(value: unknown, depth: number): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_DEPTH) return 'The request body is nested too deeply';
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `The property name "${key}" is not allowed`;
    const violation = findViolation((value as Record<string, unknown>)[key], depth + 1);
    if (violation !== undefined) return violation;
  }
  return undefined;
}

// Prototype keys anywhere are refused, so no merge can pollute Object.prototype (A4); deep nesting too (stack).
const rejectPollution: RequestHandler = (req, _res, next) => {
  const violation = findViolation(req.body, 0);
  next(violation === undefined ? undefined : new HttpError(400, violation));
};

/** JSON is size-capped against memory exhaustion (A1) and parsed only where a route takes a body. */
export function bodyParsers(config: Config): { requireJson: RequestHandler; parseJson: RequestHandler[] } {
  return {
    requireJson,
    parseJson: [express.json({ limit: config.bodyLimitBytes, strict: true, type: 'application/json' }), rejectPollution],
  };
}
