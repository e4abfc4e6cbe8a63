import { z } from 'zod';

const schema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  DATABASE_URL: z.url(),
  JWT_SECRET: z.string().min(32),
  CORS_ORIGINS: z.string().transform((value) => value.split(',').map((origin) => origin.trim())),
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(0),
});

// Read once, at startup: a missing or malformed variable stops the process before it listens (H1).
const parsed = schema.safeParse({
  PORT: process.env.PORT,
  DATABASE_URL: process.env.DATABASE_URL,
  JWT_SECRET: process.env.JWT_SECRET,
  CORS_ORIGINS: process.env.CORS_ORIGINS,
  TRUST_PROXY_HOPS: process.env.TRUST_PROXY_HOPS,
});
if (!parsed.success) {
  const names = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
  throw new Error(`invalid configuration: ${names}`);
}

export const config = parsed.data;
