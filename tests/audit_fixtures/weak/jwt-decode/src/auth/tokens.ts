import { decode, sign, type JwtPayload } from 'jsonwebtoken';
import { config } from '../config.ts';

export function verifyToken(token: string): JwtPayload | string {
  return decode(token) ?? '';
}

export function signToken(subject: string): string {
  return sign({}, config.JWT_SECRET, { algorithm: 'HS256', subject, expiresIn: '15m' });
}
