import type { Config } from '../config.ts';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

/** The one way the app talks to PostgreSQL. Parameters are always bound ($1, $2 …), never concatenated (F1). */
export interface Database {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Runs trusted, parameterless SQL that may hold several statements (migrations only). */
  exec(sql: string): Promise<void>;
  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** PostgreSQL error code for a unique violation. */
export const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === UNIQUE_VIOLATION;
}

/**
 * DATABASE_URL set → a pg pool. Unset in development/test → embedded PGlite (in memory, or PGLITE_DIR).
 * Production without DATABASE_URL never gets here: configuration refuses it.
 */
export async function openDatabase(config: Config): Promise<Database> {
  if (config.databaseUrl !== undefined) {
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres(config.databaseUrl);
  }
  if (config.isProduction) throw new Error('DATABASE_URL is required in production');
  const { openPglite } = await import('./pglite.ts');
  return openPglite(config.pgliteDir);
}
