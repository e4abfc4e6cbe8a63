import { rateLimit } from 'express-rate-limit';

// Every client is throttled, and credential routes much harder: brute force gets 429s (D4, I4).
export const limiter = rateLimit({ windowMs: 60_000, limit: 300, standardHeaders: 'draft-8', legacyHeaders: false });
export const authLimiter = rateLimit({ windowMs: 15 * 60_000, limit: 10, standardHeaders: 'draft-8', legacyHeaders: false });
