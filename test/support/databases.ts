// One fresh, migrated database per test, on either engine NetID runs on.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabase, type Database } from '../../src/db/database.js';
import { createLogger } from '../../src/logging.js';
import { migrateToLatest } from '../../src/db/migrations.js';

export type Backend = 'pglite' | 'postgres';
export const backends: Backend[] = ['pglite', 'postgres'];

export interface TestDatabase {
  backend: Backend;
  /** The current knex instance; replaced by `reopen()`. */
  db: Database;
  /** PostgreSQL URL of this fresh database, or undefined for PGlite */
  databaseUrl: string | undefined;
  /** for PGlite opened on a folder */
  directory: string | undefined;
  /** Closes the current instance and opens the same data again, as a restarted process would. */
  reopen(): Promise<Database>;
  /** closes connections and drops the database / removes the folder */
  dispose(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.NETID_TEST_POSTGRES_URL;
  if (!url) {
    throw new Error(
      'NETID_TEST_POSTGRES_URL is not set, so there is no PostgreSQL for the "postgres" backend. ' +
        'It is set by test/support/global-setup.ts: run the tests through `npm test` (jest.config.js), ' +
        'and set TEST_DATABASE_URL or install PostgreSQL (`apt-get install postgresql`).',
    );
  }
  return url;
}

async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl(), application_name: 'netid-test-admin' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function createServerDatabase(): Promise<{ name: string; url: string }> {
  // Random names let parallel jest workers share one server without coordinating.
  const name = `netid_test_${crypto.randomBytes(8).toString('hex')}`;
  await onServer(`create database ${name}`);
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

export async function createTestDatabase(backend: Backend, options: { onDisk?: boolean } = {}): Promise<TestDatabase> {
  let databaseUrl: string | undefined;
  let directory: string | undefined;
  let removeStorage: () => Promise<void> = async () => undefined;

  if (backend === 'postgres') {
    const created = await createServerDatabase();
    databaseUrl = created.url;
    // force: a test that forgot to release a connection must not make the drop fail.
    removeStorage = () => onServer(`drop database if exists ${created.name} with (force)`);
  } else if (options.onDisk) {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'netid-pglite-'));
    directory = folder;
    removeStorage = async () => fs.rmSync(folder, { recursive: true, force: true });
  }

  // knex's own messages go where a test NetID's logs go: nowhere, unless NETID_TEST_LOG_LEVEL asks.
  const open = () => createDatabase({ databaseUrl, pgliteDirectory: directory, logger: createLogger(process.env.NETID_TEST_LOG_LEVEL ?? 'silent') });
  let db = await open();
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    await removeStorage().catch(() => undefined);
    throw error;
  }

  let disposed: Promise<void> | undefined;
  return {
    backend,
    databaseUrl,
    directory,
    get db() {
      return db;
    },
    async reopen() {
      // PGlite holds the folder exclusively: the old instance must be closed before a new one opens it.
      await db.destroy();
      db = await open();
      return db;
    },
    dispose() {
      disposed ??= (async () => {
        try {
          await db.destroy();
        } finally {
          await removeStorage();
        }
      })();
      return disposed;
    },
  };
}
