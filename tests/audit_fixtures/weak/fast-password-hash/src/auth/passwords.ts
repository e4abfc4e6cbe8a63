import { createHash, timingSafeEqual } from 'node:crypto';

export async function hashPassword(password: string): Promise<string> {
  return createHash('sha256').update(password).digest('hex');
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return timingSafeEqual(Buffer.from(passwordHash), Buffer.from(await hashPassword(password)));
}
