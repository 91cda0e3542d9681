import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from '../config/environment.js';
import { lockEmbeddedDatabase } from './embedded-lock.js';

export type Database = Knex;

export interface DatabaseOptions {
  /** A PostgreSQL URL, or undefined for the embedded PGlite database. */
  databaseUrl: string | undefined;
  /** Folder for the embedded database; `undefined` keeps it in memory (tests). */
  pgliteDirectory?: string | undefined;
  poolMax?: number;
  /** Where knex's own messages go (a lost connection, a deprecation); without one, knex writes them to the console. */
  logger?: Logger | undefined;
}

export function databaseOptions(config: Config): DatabaseOptions {
  return {
    databaseUrl: config.databaseUrl,
    pgliteDirectory: path.join(config.dataDir, 'pglite'),
    poolMax: config.databasePoolMax,
  };
}

/** knex's messages as structured log lines, so they reach the same place as NetID's and are not printed beside them. */
function knexLog(logger: Logger | undefined): Knex.Config['log'] {
  if (!logger) return undefined;
  const database = logger.child({ component: 'database' });
  const text = (message: unknown) => (message instanceof Error ? message.message : String(message));
  return {
    warn: (message: unknown) => database.warn(text(message)),
    error: (message: unknown) => database.error(text(message)),
    deprecate: (method: string, alternative: string) => database.warn({ method, alternative }, 'knex deprecation'),
    debug: (message: unknown) => database.debug({ knex: message }, 'knex debug'),
  };
}

/** Time to open a connection, TLS and authentication included; on any working network it takes milliseconds. */
const CONNECT_TIMEOUT_MS = 3_000;

export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    return knexFactory({
      client: 'pg',
      // A server that does not answer at all (its machine gone from the network) fails a new connection in
      // seconds, as a refused one does, rather than after acquireConnectionTimeout or TCP's own minutes.
      connection: { connectionString: options.databaseUrl, application_name: 'netid', connectionTimeoutMillis: CONNECT_TIMEOUT_MS },
      // knex's default propagateCreateError stays on: a request waiting for a connection gets the connect error at once.
      pool: { min: 0, max: options.poolMax ?? 10 },
      acquireConnectionTimeout: 10_000,
      log: knexLog(options.logger),
    });
  }
  // PGlite is loaded only when used: production never needs the WebAssembly build.
  const { default: ClientPgLite } = await import('knex-pglite');
  // An empty connection keeps the database in memory.
  const connection = (options.pgliteDirectory ? { filename: options.pgliteDirectory } : {}) as Knex.StaticConnectionConfig;
  const release = options.pgliteDirectory ? lockEmbeddedDatabase(options.pgliteDirectory) : () => {};
  const db = knexFactory({ client: ClientPgLite as unknown as typeof Knex.Client, dialect: 'postgres', connection, log: knexLog(options.logger) });
  // knex's own destroy() cannot be replaced; it ends in the client's, which can.
  const client = db.client as { destroy(callback?: unknown): Promise<void> };
  const destroyClient = client.destroy.bind(client);
  client.destroy = async (callback?: unknown) => {
    try {
      await destroyClient(callback);
    } finally {
      release();
    }
  };
  return db;
}

/** Turns a connection failure into a sentence an operator can act on. */
export async function assertDatabaseReachable(db: Database, databaseUrl: string | undefined): Promise<void> {
  try {
    await db.raw('select 1');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (!databaseUrl) throw new Error(`cannot open the embedded database: ${reason}`);
    const safe = new URL(databaseUrl);
    safe.password = safe.password ? '***' : '';
    throw new Error(`cannot connect to DATABASE_URL (${safe.toString()}): ${reason}`);
  }
}

/** Whether `db` is a transaction (knex's transaction objects say so), as opposed to the pool. */
export function isTransaction(db: Database): boolean {
  return (db as Database & { isTransaction?: boolean }).isTransaction === true;
}

/**
 * Runs `effect` once the transaction `db` belongs to has committed, or at once
 * outside a transaction; never after a rollback. For what must not happen
 * before the change is stored: telling accounts of a logout, waking delivery.
 */
export function afterCommit(db: Database, effect: () => void): void {
  const transaction = db as Database & { executionPromise?: Promise<unknown> };
  if (!isTransaction(db) || !transaction.executionPromise) {
    effect();
    return;
  }
  transaction.executionPromise.then(effect, () => undefined);
}
