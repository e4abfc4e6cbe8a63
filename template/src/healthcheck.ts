// The container's HEALTHCHECK: plain Node, so the image needs no curl or wget (J2).
import { loadConfig } from './config.ts';

const { host, port } = loadConfig(process.env);
const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
try {
  const res = await fetch(`http://${target}:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
  process.exitCode = res.ok ? 0 : 1;
} catch {
  process.exitCode = 1;
}
