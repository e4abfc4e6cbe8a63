import cors from 'cors';
import { config } from '../config.ts';

// Only the configured origins are answered; look-alike origins get no CORS headers (C1).
export const corsPolicy = cors({ origin: config.CORS_ORIGINS, credentials: true });
