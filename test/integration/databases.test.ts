import { afterEach, describe, expect, it } from '@jest/globals';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const coreTables = [
  'profiles',
  'accounts',
  'memberships',
  'identities',
  'clients',
  'oidc_models',
  'signing_keys',
  'installation_secrets',
  'audit_events',
  'rate_limits',
];

describe.each(backends)('test database on %s', (backend) => {
  const opened: TestDatabase[] = [];
  const open = async (options?: { onDisk?: boolean }) => {
    const testDatabase = await createTestDatabase(backend, options);
    opened.push(testDatabase);
    return testDatabase;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((testDatabase) => testDatabase.dispose()));
  });

  it('starts migrated to the core schema', async () => {
    const { db } = await open();
    const tables = await db('information_schema.tables')
      .whereRaw('table_schema = current_schema()')
      .pluck('table_name');
    expect(tables).toEqual(expect.arrayContaining(coreTables));
  });

  it('keeps a row written before reopen, as a restarted process would see it', async () => {
    const testDatabase = await open({ onDisk: true });
    await testDatabase.db('installation_secrets').insert({ name: 'probe', value_sealed: 'sealed-probe' });

    const reopened = await testDatabase.reopen();

    expect(await reopened('installation_secrets').where({ name: 'probe' }).first('value_sealed')).toEqual({
      value_sealed: 'sealed-probe',
    });
  });

  it('gives each test database its own data', async () => {
    const first = await open();
    const second = await open();
    await first.db('installation_secrets').insert({ name: 'only-in-first', value_sealed: 'x' });
    await second.db('installation_secrets').insert({ name: 'only-in-second', value_sealed: 'y' });
    expect(await first.db('installation_secrets').orderBy('name').pluck('name')).toEqual(['only-in-first']);
    expect(await second.db('installation_secrets').orderBy('name').pluck('name')).toEqual(['only-in-second']);
  });
});
