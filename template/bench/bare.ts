// The baseline for `npm run bench`: a bare Express 5 app serving the benchmarked routes with none of
// the hardening (no auth, validation, helmet, CORS, logging or rate limits). Never deploy it.
//
// Env: BARE_PORT; BENCH_NOTE_ID, BENCH_NOTE_TITLE, BENCH_NOTE_BODY (the row to read);
// DATABASE_URL set → reads that row from PostgreSQL (the real app created it); unset → an in-memory
// PGlite seeded with the same row, like the real app's embedded database.
import { PGlite } from '@electric-sql/pglite';
import express from 'express';
import pg from 'pg';

interface NoteRow {
  id: string;
  title: string;
  body: string;
  created_at: Date;
  updated_at: Date;
}

interface Store {
  findNote(id: string): Promise<NoteRow | undefined>;
  close(): Promise<void>;
}

const SELECT_NOTE = 'SELECT id, title, body, created_at, updated_at FROM notes WHERE id = $1';

const { BARE_PORT, BENCH_NOTE_ID, BENCH_NOTE_TITLE, BENCH_NOTE_BODY, DATABASE_URL } = process.env;

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new Error(`bare app: ${name} is required`);
  return value;
}

function openPostgres(url: string): Store {
  const pool = new pg.Pool({ connectionString: url });
  return {
    findNote: async (id) => (await pool.query<NoteRow>(SELECT_NOTE, [id])).rows[0],
    close: () => pool.end(),
  };
}

async function openPglite(id: string, title: string, body: string): Promise<Store> {
  const db = await PGlite.create();
  await db.exec(`CREATE TABLE notes (
    id uuid PRIMARY KEY,
    owner_id uuid NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`);
  await db.query('INSERT INTO notes (id, owner_id, title, body) VALUES ($1, gen_random_uuid(), $2, $3)', [
    id,
    title,
    body,
  ]);
  return {
    findNote: async (noteId) => (await db.query<NoteRow>(SELECT_NOTE, [noteId])).rows[0],
    close: () => db.close(),
  };
}

const noteId = required(BENCH_NOTE_ID, 'BENCH_NOTE_ID');
const store =
  DATABASE_URL !== undefined && DATABASE_URL !== ''
    ? openPostgres(DATABASE_URL)
    : await openPglite(noteId, required(BENCH_NOTE_TITLE, 'BENCH_NOTE_TITLE'), required(BENCH_NOTE_BODY, 'BENCH_NOTE_BODY'));

const app = express();

app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});

app.get('/v1/notes/:id', async (req, res) => {
  const row = await store.findNote(req.params.id);
  if (row === undefined) {
    res.status(404).json({ status: 404 });
    return;
  }
  res.json({
    id: row.id,
    title: row.title,
    body: row.body,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  });
});

const server = app.listen(Number(required(BARE_PORT, 'BARE_PORT')), '127.0.0.1', () => {
  process.stdout.write('bare app listening\n');
});

function shutdown(): void {
  server.close(() => {
    void store.close().finally(() => process.exit(0));
  });
  server.closeAllConnections();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
