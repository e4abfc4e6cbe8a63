import jwt from 'jsonwebtoken';
import { config } from '../config.ts';

export function verifyToken(token: string): jwt.JwtPayload | string {
  return jwt.verify(token, config.JWT_SECRET);
}

export function signToken(subject: string): string {
  return jwt.sign({}, config.JWT_SECRET, { subject, expiresIn: '15m' });
}
