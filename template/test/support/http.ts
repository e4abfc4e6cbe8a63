// The HTTP client side: fetch with the body read, raw sockets for what fetch cannot send, and the
// assertions every error response must pass.
import assert from 'node:assert/strict';
import { connect } from 'node:net';

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** fetch + body read; JSON bodies are parsed, anything else is left in `text`. */
export async function request<T = Record<string, unknown>>(
  app: { url: string },
  path: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown; body?: string } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${app.url}${path}`, { method: init.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown = undefined;
  if (/json/.test(res.headers.get('content-type') ?? '') && text !== '') parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** The problem+json shape every error shares (B3): type, title, status, requestId; never internals. */
export function assertProblem(res: JsonResponse, status: number): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(typeof res.body.type, 'string');
  assert.equal(typeof res.body.title, 'string');
  assert.equal(res.body.status, status);
  assert.equal(typeof res.body.requestId, 'string');
  assert.equal(res.body.requestId, res.headers.get('x-request-id'));
  assertNoInternals(res.text);
}

/** No stack frame, file path, SQL, parser message or library name in client-visible text (B3). */
function assertNoInternals(text: string): void {
  const forbidden: [RegExp, string][] = [
    [/\bat .+:\d+:\d+/, 'stack frame'],
    [/(\/|\\)(src|srv|node_modules|home|usr)(\/|\\)/, 'file path'],
    [/\.(ts|js|cjs|mjs):\d+/, 'source location'],
    [/\b(SELECT|INSERT|UPDATE|DELETE)\b.+\b(FROM|INTO|SET)\b/i, 'SQL'],
    [/ECONNREFUSED|10\.9\.8\.7/, 'connection detail'],
    [/\b(express|body-parser|pglite|postgres(ql)?|node-postgres|zod|argon2|jose|pino|undici)\b/i, 'library name'],
    [/Unexpected token|in JSON at position|SyntaxError|TypeError|ReferenceError/, 'runtime error text'],
  ];
  for (const [pattern, what] of forbidden) assert.doesNotMatch(text, pattern, `response leaks a ${what}: ${text}`);
}

// Raw sockets: malformed requests, methods fetch refuses (TRACE), slow clients.
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

function parseRaw(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: end === -1 ? '' : raw.slice(end + 4), raw };
}

/** Sends bytes as they are and reads until the server closes (send `Connection: close`). */
export async function rawRequest(port: number, payload: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms: ${Buffer.concat(chunks).toString('latin1')}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolvePromise(parseRaw(Buffer.concat(chunks).toString('utf8')));
    });
    socket.write(payload);
  });
}

/** A client that never finishes its headers: sends one header line every `intervalMs` until cut off. */
export async function slowHeaders(port: number, intervalMs: number, giveUpMs: number): Promise<{ cutOffAfterMs: number | undefined; response: string }> {
  return new Promise((resolvePromise) => {
    const startedAt = performance.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let n = 0;
    socket.on('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n'));
    const drip = setInterval(() => {
      n += 1;
      socket.write(`X-Drip-${n}: ${n}\r\n`);
    }, intervalMs);
    const finish = (cutOff: boolean) => {
      clearInterval(drip);
      clearTimeout(giveUp);
      socket.destroy();
      resolvePromise({ cutOffAfterMs: cutOff ? performance.now() - startedAt : undefined, response: Buffer.concat(chunks).toString('latin1') });
    };
    const giveUp = setTimeout(() => finish(false), giveUpMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
  });
}
