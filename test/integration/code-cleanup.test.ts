import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { createOneTimeCodes, deleteOldCodes, type OneTimeCodes } from '../../src/profile/one-time-codes.js';
import { hashPassword } from '../../src/security/passwords.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

describe.each(backends)('deleting old one-time codes (%s)', (backend) => {
  let database: TestDatabase;
  let codes: OneTimeCodes;
  let now = 0;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    codes = createOneTimeCodes(database.db, randomBytes(32));
  });

  afterAll(async () => {
    await database?.dispose();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  const rows = async () => Number((await database.db('one_time_codes').count<{ n: string }[]>({ n: '*' }).first())?.n);

  async function newProfile(): Promise<string> {
    const id = randomUUID();
    await database.db('profiles').insert({ id, email: `cleanup.${id}@example.test`, password_hash: await hashPassword('a pass phrase') });
    return id;
  }

  beforeEach(() => {
    now = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });

  test('deletes codes an hour after they expired, recovery codes of nobody too, and keeps the rest', async () => {
    const before = await rows();
    const profileId = await newProfile();
    const confirm = { purpose: 'confirm-email' as const, profileId, target: `cleanup.${profileId}@example.test` };
    expect(await codes.issue(confirm)).toMatchObject({ issued: true });
    expect(await codes.issue({ purpose: 'recover-access', identifier: `nobody.${profileId}@example.test`, requester: 'a sign-in' })).toEqual({
      issued: true,
      code: undefined,
    });
    now += 61 * 60 * 1000;
    expect(await codes.issue(confirm)).toMatchObject({ issued: true });

    // The first two expired 61 minutes ago; the third is still live.
    now += 10 * 60 * 1000;
    expect(await deleteOldCodes(database.db)).toBe(2);
    expect(await rows()).toBe(before + 1);
    expect(await deleteOldCodes(database.db)).toBe(0);
  });

  test('keeps every code the hourly cap counts', async () => {
    const profileId = await newProfile();
    const connect = { purpose: 'connect-phone' as const, profileId, target: '+442079460958' };
    for (let i = 0; i < 5; i++) {
      expect(await codes.issue(connect)).toMatchObject({ issued: true });
      now += 61 * 1000;
    }
    now += 15 * 60 * 1000;
    expect(await deleteOldCodes(database.db)).toBe(0);
    expect(await codes.issue(connect)).toEqual({ issued: false, retryAfterSeconds: 3600 - 5 * 61 - 15 * 60 });
  });
});
