import { describe, expect, test } from '@jest/globals';
import { createGroupedUpserts } from '../../src/oidc/grouped-upserts.js';
import type { UpsertWrite } from '../../src/oidc/request-writes.js';

const row = (model: string, id: string): UpsertWrite => ({
  kind: 'upsert',
  model,
  id,
  payload: '{}',
  grantId: null,
  userCode: null,
  uid: null,
  expiresAt: null,
});

const ids = (rows: UpsertWrite[]) => rows.map((write) => `${write.model}:${write.id}`);

describe('upserts of requests in one round of the event loop', () => {
  test('go to the database as one statement, each request told when its rows are stored', async () => {
    const statements: string[][] = [];
    const upsert = createGroupedUpserts(async (rows) => void statements.push(ids(rows)));
    await Promise.all([upsert([row('ClientCredentials', 'a')]), upsert([row('Session', 's'), row('Grant', 'g')])]);
    expect(statements).toEqual([['ClientCredentials:a', 'Session:s', 'Grant:g']]);
  });

  test('keep a row that two requests write out of a shared statement', async () => {
    const statements: string[][] = [];
    const upsert = createGroupedUpserts(async (rows) => void statements.push(ids(rows)));
    await Promise.all([upsert([row('Session', 's')]), upsert([row('Session', 's'), row('Grant', 'g')]), upsert([row('Grant', 'h')])]);
    expect(statements).toEqual([['Session:s', 'Grant:h'], ['Session:s', 'Grant:g']]);
  });

  test("fail only the request whose rows the database refused, not the others' of its statement", async () => {
    const upsert = createGroupedUpserts(async (rows) => {
      if (rows.some((write) => write.id === 'bad')) throw new Error('refused');
    });
    const results = await Promise.allSettled([upsert([row('Grant', 'good')]), upsert([row('Grant', 'bad')])]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
  });

  test('a request alone in its round gets the database error itself', async () => {
    const upsert = createGroupedUpserts(async () => {
      throw new Error('connection lost');
    });
    await expect(upsert([row('Grant', 'g')])).rejects.toThrow('connection lost');
  });
});
