import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createIdempotencyQueries, deleteOldIdempotencyKeys, type IdempotencyQueries } from '../../src/db/idempotency.js';
import { createSealer } from '../../src/security/sealing.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

describe.each(backends)('forgetting management API retries after 24 hours (%s)', (backend) => {
  let database: TestDatabase;
  let idempotency: IdempotencyQueries;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    idempotency = createIdempotencyQueries(database.db, createSealer(randomBytes(32)));
  });

  afterAll(async () => {
    await database?.dispose();
  });

  async function answered(caller: string, key: string): Promise<void> {
    const request = { method: 'POST', path: '/api/v1/accounts/x/members', requestHash: 'h' };
    expect(await idempotency.claim(caller, key, request)).toBe(true);
    await idempotency.store(caller, key, { status: 201, body: { id: key } });
  }

  test('an answer older than a day is deleted, a newer one still answers a retry', async () => {
    const caller = randomUUID();
    await answered(caller, 'old');
    await answered(caller, 'recent');
    await database.db('idempotency_keys').where({ caller, key: 'old' }).update({ created_at: new Date(Date.now() - 25 * 60 * 60 * 1000) });

    expect(await deleteOldIdempotencyKeys(database.db)).toBeGreaterThanOrEqual(1);
    expect(await idempotency.find(caller, 'old')).toBeUndefined();
    expect(await idempotency.find(caller, 'recent')).toMatchObject({ status: 201, body: { id: 'recent' } });
  });
});
