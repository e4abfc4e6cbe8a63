import { createRequire } from 'node:module';
import type * as NodeHttp from 'node:http';

// `import … from 'node:http'` in an ES module makes Node load its fetch/WebSocket client (undici) for
// exports this app never uses, a tenth of a second of cold start; require() leaves them lazy.
export const { createServer, STATUS_CODES } = createRequire(import.meta.url)('node:http') as typeof NodeHttp;
