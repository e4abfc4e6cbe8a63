import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Database, QueryResult } from './database.ts';

function wrap(target: PGlite | Transaction, transaction: Database['transaction']): Database {
  return {
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const result = await target.query<T>(sql, params as unknown[]);
      return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
    transaction,
    ping: async () => {
      await target.query('SELECT 1');
    },
    close: () => Promise.reject(new Error('close is not available inside a transaction')),
  };
}

export async function openPglite(dataDir: string | undefined): Promise<Database> {
  // Imported lazily: PGlite is a dev dependency and absent from production installs.
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create(dataDir === undefined ? {} : { dataDir });
  const transaction = <T>(fn: (tx: Database) => Promise<T>): Promise<T> =>
    pglite.transaction((tx) => fn(wrap(tx, (inner) => inner(wrap(tx, transaction)))));
  return {
    ...wrap(pglite, transaction),
    async close() {
      await pglite.close();
    },
  };
}
