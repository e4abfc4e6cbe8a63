import pg from 'pg';
import { DatabaseUnavailableError, type Database, type QueryResult } from './database.ts';

// SQLSTATE classes 08 (connection), 53 (resources), 57P (shutdown); pg's own connection errors carry no code.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P)/;
const UNAVAILABLE_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const UNAVAILABLE_MESSAGE = /^(timeout exceeded when trying to connect|Connection terminated|Query read timeout)/;

/** Outages become 503 + Retry-After, not hung requests (I2, I4); other errors stay 500s, not fake outages. */
export function translate(err: unknown): unknown {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  const unavailable =
    typeof code === 'string'
      ? UNAVAILABLE_SOCKET.has(code) || (/^[0-9A-Z]{5}$/.test(code) && UNAVAILABLE_SQLSTATE.test(code))
      : err instanceof Error && typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
  return unavailable ? new DatabaseUnavailableError() : err;
}

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

function wrap(target: Queryable, transaction: Database['transaction']): Database {
  return {
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      try {
        const result = await target.query(sql, params as unknown[]);
        return { rows: result.rows as T[], rowCount: result.rowCount ?? result.rows.length };
      } catch (err) {
        throw translate(err);
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        await target.query(sql);
      } catch (err) {
        throw translate(err);
      }
    },
    transaction,
    ping: () => Promise.reject(new Error('ping is not available inside a transaction')),
    close: () => Promise.reject(new Error('close is not available inside a transaction')),
  };
}

export function openPostgres(connectionString: string): Database {
  const pool = new pg.Pool({
    connectionString,
    max: 10,
    // Bounded waits everywhere: a slow or absent database turns into fast 503s, not piled-up requests (I4).
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 10_000,
    query_timeout: 15_000,
    application_name: 'api',
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);

  const transaction = async <T>(fn: (tx: Database) => Promise<T>): Promise<T> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw translate(err);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(wrap(client, (inner) => inner(wrap(client, transaction))));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw translate(err);
    } finally {
      client.release(broken);
    }
  };

  const db = wrap(pool, transaction);
  return {
    ...db,
    async ping() {
      await db.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}
