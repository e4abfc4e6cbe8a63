import { z } from 'zod';
import { text } from '../../http/text.ts';
import { MAX_PASSWORD_LENGTH } from './password-policy.ts';

// Bounded at the boundary; the length window is stated here so the document shows it, strength runs in the service (D2).
const email = z
  .email({ error: 'must be an e-mail address' })
  .max(254)
  .transform((value) => value.toLowerCase());
// Checking an existing password: generous bounds, so a later PASSWORD_MIN_LENGTH never locks anyone out.
const password = text({ min: 1, max: 512 });
/** A new password: PASSWORD_MIN_LENGTH–128 characters, counted as sent, as the document states (D2, H3). */
const newPassword = (minLength: number) => text({ min: minLength, max: MAX_PASSWORD_LENGTH });
const refreshToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a refresh token');

export const registerBody = (passwordMinLength: number) =>
  z.strictObject({
    email,
    password: newPassword(passwordMinLength),
    displayName: text({ min: 1, max: 100, singleLine: true, trim: true }),
  });

export const loginBody = z.strictObject({ email, password });

export const refreshBody = z.strictObject({ refreshToken });

export const logoutBody = z.strictObject({ refreshToken });

export const changePasswordBody = (passwordMinLength: number) =>
  z.strictObject({ currentPassword: password, newPassword: newPassword(passwordMinLength) });

export const BEARER_SCHEME = 'Bearer';

export const tokenPairSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal(BEARER_SCHEME),
  expiresIn: z.number().int().describe('Access-token lifetime in seconds'),
});

export type TokenPair = z.output<typeof tokenPairSchema>;
