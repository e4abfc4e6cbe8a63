// Test accounts: passwords that pass (or never match), unique e-mails, registered and signed-in users.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { bearer, request } from './http.ts';

let userCounter = 0;

/** A password that passes the rules (D2): long, unique, not on any list. */
export function strongPassword(): string {
  return `quiet-lantern-${randomBytes(9).toString('base64url')}-harbor`;
}

/** A password guess that never matches: fresh per call, so no literal credential sits in the tests. */
export function wrongPassword(): string {
  return `wrong-guess-${randomBytes(9).toString('base64url')}`;
}

export function uniqueEmail(tag = 'user'): string {
  userCounter += 1;
  return `${tag}-${userCounter}-${randomBytes(4).toString('hex')}@example.com`;
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  displayName: string;
  accessToken: string;
  refreshToken: string;
  headers: Record<string, string>;
}

export async function register(app: { url: string }, input: { email?: string; password?: string; displayName?: string } = {}) {
  const email = input.email ?? uniqueEmail();
  const password = input.password ?? strongPassword();
  const displayName = input.displayName ?? 'Test User';
  const res = await request(app, '/v1/auth/register', { method: 'POST', json: { email, password, displayName } });
  assert.equal(res.status, 201, `register failed: ${res.text}`);
  return { id: String(res.body.id), email, password, displayName };
}

export async function login(app: { url: string }, email: string, password: string) {
  const res = await request(app, '/v1/auth/login', { method: 'POST', json: { email, password } });
  assert.equal(res.status, 200, `login failed: ${res.text}`);
  return { accessToken: String(res.body.accessToken), refreshToken: String(res.body.refreshToken) };
}

/** Registers a new account and logs it in. */
export async function newUser(app: { url: string }, input: { email?: string; password?: string; displayName?: string } = {}): Promise<TestUser> {
  const user = await register(app, input);
  const tokens = await login(app, user.email, user.password);
  return { ...user, ...tokens, headers: bearer(tokens.accessToken) };
}
