import { z } from 'zod';
import { text } from '../../http/text.ts';

// Bounded at the boundary; the password rules (length window, blocklist) run in the service (D2).
const email = z
  .email({ error: 'must be an e-mail address' })
  .max(254)
  .transform((value) => value.toLowerCase());
const password = text({ min: 1, max: 512 });
const refreshToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a refresh token');

export const registerBody = z.strictObject({
  email,
  password,
  displayName: text({ min: 1, max: 100, singleLine: true, trim: true }),
});

export const loginBody = z.strictObject({ email, password });

export const refreshBody = z.strictObject({ refreshToken });

export const logoutBody = z.strictObject({ refreshToken });

export const changePasswordBody = z.strictObject({ currentPassword: password, newPassword: password });

export const BEARER_SCHEME = 'Bearer';

export const tokenPairSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal(BEARER_SCHEME),
  expiresIn: z.number().int().describe('Access-token lifetime in seconds'),
});

export type TokenPair = z.output<typeof tokenPairSchema>;
