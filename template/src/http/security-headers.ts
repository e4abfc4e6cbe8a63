import type { RequestHandler, Response } from 'express';
import helmet from 'helmet';

const CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** The headers helmet sets with these options, asked once: they never depend on the request. */
function helmetHeaders(): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.push([name, String(value)]),
    removeHeader: () => undefined,
  } as unknown as Response;
  helmet({
    contentSecurityPolicy: false,
    // Browsers must only ever reach the API over HTTPS, for a year (stops SSL stripping).
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    // No URL (which may hold ids) leaks to other sites through Referer.
    referrerPolicy: { policy: 'no-referrer' },
    // No framing of responses (clickjacking); helmet also sends nosniff and CORP same-origin.
    xFrameOptions: { action: 'deny' },
    // Headers that only steer how a browser treats an HTML document (pop-ups, DNS prefetch of links, IE
    // downloads, Flash/PDF policies, the retired XSS auditor): a JSON API has no document, so they are not sent.
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  })({} as never, recorder, () => undefined);
  return headers;
}

/** Mounted before anything can answer, so 404/413/429/500 carry these headers too (B1, B2). */
export function securityHeaders(state: { shuttingDown: boolean }): RequestHandler[] {
  const headers: [string, string][] = [
    ...helmetHeaders(),
    ['Content-Security-Policy', CONTENT_SECURITY_POLICY],
    // Responses carry personal data and tokens: no shared or browser cache may keep them (B2).
    ['Cache-Control', 'no-store'],
  ];
  return [
    (_req, res, next) => {
      for (const [name, value] of headers) res.setHeader(name, value);
      // While draining, each response closes its connection so that clients reconnect elsewhere (I1).
      if (state.shuttingDown) res.setHeader('Connection', 'close');
      next();
    },
  ];
}
