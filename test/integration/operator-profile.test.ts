import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { en } from '../../src/i18n/en.js';
import { runCommand, UsageError } from '../../src/operator-commands.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';

describe.each(backends)('the operator creates a profile (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  test.each([
    ['the email', { email: 'grace@example.test', password: 'grace@example.test' }],
    ['the phone written nationally', { email: 'grace@example.test', phone: '+442079460958', password: '020 7946 0958' }],
    ['the name of the service', { email: 'grace@example.test', password: 'NetID network!' }],
  ])('with a password made of %s is refused with the reason, and creates nothing', async (_case, values) => {
    const before = await netid.context.queries.profiles.count();
    const refused = runCommand(netid.context, ['profile', 'create'], values);
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow(en['password.context_words']);
    expect(await netid.context.queries.profiles.count()).toBe(before);
  });

  test('with a password of its own creates the profile', async () => {
    const created = (await runCommand(netid.context, ['profile', 'create'], { email: 'ada@example.test', password: 'a pass phrase of her own' })) as {
      profile_id: string;
    };
    expect(await netid.context.queries.profiles.findById(created.profile_id)).toMatchObject({ email: 'ada@example.test' });
  });
});
