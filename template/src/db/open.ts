import type { Config } from '../config.ts';
import type { Database } from './database.ts';

export async function openDatabase(config: Config): Promise<Database> {
  if (config.databaseUrl !== undefined) {
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres(config.databaseUrl);
  }
  if (config.isProduction) throw new Error('DATABASE_URL is required in production');
  const { openPglite } = await import('./pglite.ts');
  return openPglite(config.pgliteDir);
}
