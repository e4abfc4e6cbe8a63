import { readdir, readFile } from 'node:fs/promises';
import type { Database } from './database.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const MIGRATION_FILE = /^[0-9]{4}_[a-z0-9_]+\.sql$/;
// Any constant works; it only has to be the same for every instance of this service.
const MIGRATION_LOCK_KEY = 7_231_902_114;

/** One advisory lock around the whole run: replicas starting together apply each file exactly once (F3). */
export async function migrate(db: Database): Promise<string[]> {
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- a constant path inside this package
  const files = (await readdir(MIGRATIONS_DIR)).filter((name) => MIGRATION_FILE.test(name)).sort();
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await tx.query<{ version: string }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    const pending = files.filter((name) => !applied.has(name));
    for (const name of pending) {
      // eslint-disable-next-line security/detect-non-literal-fs-filename -- names listed from our own directory
      const sql = await readFile(new URL(name, MIGRATIONS_DIR), 'utf8');
      await tx.exec(sql);
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [name]);
    }
    return pending;
  });
}
