// Faults on demand: a database that fails or hangs like a lost server, and a TCP proxy that takes a
// real dependency (PostgreSQL, Redis) away and brings it back.
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from 'node:net';
import { DatabaseUnavailableError, type Database, type QueryResult } from '../../src/db/database.ts';

/** What a broken database says: SQL, a host and a file path that must never reach a client (B3). */
const DB_FAILURE_MESSAGE =
  'connect ECONNREFUSED 10.9.8.7:5432 while running SELECT password_hash FROM users at /srv/app/node_modules/pg/lib/client.js:132';

/** Wraps the real database; while `failing`, every call rejects (and while `stalled`, hangs) like a lost server. */
export class FaultyDatabase implements Database {
  failing = false;
  /** While set, every call rejects as the drivers report a lost server once translated (I4). */
  unavailable = false;
  stalled = false;
  readonly inner: Database;
  private readonly releases: (() => void)[] = [];

  constructor(inner: Database) {
    this.inner = inner;
  }

  private async gate(): Promise<void> {
    if (this.stalled) await new Promise<void>((release) => this.releases.push(release));
    if (this.unavailable) throw new DatabaseUnavailableError();
    if (this.failing) {
      const err = new Error(DB_FAILURE_MESSAGE) as Error & { code: string };
      err.code = 'ECONNREFUSED';
      throw err;
    }
  }

  /** Ends a stall: every waiting call proceeds (and fails if `failing` is still on). */
  release(): void {
    this.stalled = false;
    for (const release of this.releases.splice(0)) release();
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    await this.gate();
    return this.inner.query<T>(sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.gate();
    await this.inner.exec(sql);
  }

  async transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    await this.gate();
    return this.inner.transaction(fn);
  }

  async ping(): Promise<void> {
    await this.gate();
    await this.inner.ping();
  }

  async close(): Promise<void> {
    this.release();
    await this.inner.close();
  }
}

export interface TcpProxy {
  port: number;
  /** Drops every connection and refuses new ones, like a dependency that went away. */
  cut: () => Promise<void>;
  /** Listens again on the same port. */
  restore: () => Promise<void>;
  close: () => Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const makeServer = () =>
    createNetServer((client) => {
      const upstream = connect(targetPort, targetHost);
      sockets.add(client);
      sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
  let server = makeServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  let listening = true;
  const cut = async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (listening) {
      listening = false;
      await new Promise<void>((done) => server.close(() => done()));
    }
  };
  return {
    port,
    cut,
    restore: async () => {
      if (listening) return;
      server = makeServer();
      await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
      listening = true;
    },
    close: cut,
  };
}
