import { config } from './config.ts';

const response = await fetch(`http://127.0.0.1:${config.PORT}/healthz`);
process.exitCode = response.ok ? 0 : 1;
