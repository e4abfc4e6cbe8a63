import jwt from 'jsonwebtoken';
import { config } from '../config.ts';

const ISSUER = 'good-api';

// One pinned algorithm: `alg: none` and key confusion are refused (D5).
export function verifyToken(token: string): jwt.JwtPayload | string {
  return jwt.verify(token, config.JWT_SECRET, { algorithms: ['HS256'], issuer: ISSUER, audience: ISSUER });
}

export function signToken(subject: string): string {
  return jwt.sign({}, config.JWT_SECRET, { algorithm: 'HS256', subject, expiresIn: '15m', issuer: ISSUER, audience: ISSUER });
}
