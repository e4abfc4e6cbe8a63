export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

/** Values are always bound parameters ($1, $2 …), never concatenated into SQL: no injection (F1). */
export interface Database {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Takes no parameters, so only trusted SQL (migrations): never anything built from input (F1). */
  exec(sql: string): Promise<void>;
  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === UNIQUE_VIOLATION;
}

/** The database cannot serve now (connection lost, server shutting down): the HTTP layer answers 503 (I4). */
export class DatabaseUnavailableError extends Error {
  constructor() {
    super('The database is unavailable');
    this.name = 'DatabaseUnavailableError';
  }
}
