import type { RequestHandler } from 'express';
import helmet from 'helmet';

const CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** Mounted before anything can answer, so 404/413/429/500 carry these headers too (B1, B2). */
export function securityHeaders(): RequestHandler[] {
  return [
    helmet({
      contentSecurityPolicy: false,
      // Browsers must only ever reach the API over HTTPS, for a year (stops SSL stripping).
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
      // No URL (which may hold ids) leaks to other sites through Referer.
      referrerPolicy: { policy: 'no-referrer' },
      // No framing of responses (clickjacking); helmet also sends nosniff and drops X-Powered-By.
      xFrameOptions: { action: 'deny' },
    }),
    (_req, res, next) => {
      res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      // Responses carry personal data and tokens: no shared or browser cache may keep them (B2).
      res.setHeader('Cache-Control', 'no-store');
      next();
    },
  ];
}
