import helmet from 'helmet';

// HSTS, nosniff, no framing and no referrer on every response, errors included (B1).
export const securityHeaders = helmet({ referrerPolicy: { policy: 'no-referrer' } });
