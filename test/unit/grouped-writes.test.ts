import { describe, expect, test } from '@jest/globals';
import { createGroupedWrites } from '../../src/oidc/grouped-writes.js';
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

/** Upserts grouped as the pg driver's are: `write` stores the rows of the requests of one statement. */
const groupedUpserts = (write: (rows: UpsertWrite[]) => Promise<void>) =>
  createGroupedWrites<UpsertWrite[], void>({
    rowsOf: ids,
    maxGroups: 64,
    maxRows: 128,
    async write(groups) {
      await write(groups.flat());
      return groups.map(() => undefined);
    },
  });

describe('writes of requests in one round of the event loop', () => {
  test('go to the database as one statement, each request told when its rows are stored', async () => {
    const statements: string[][] = [];
    const upsert = groupedUpserts(async (rows) => void statements.push(ids(rows)));
    await Promise.all([upsert([row('ClientCredentials', 'a')]), upsert([row('Session', 's'), row('Grant', 'g')])]);
    expect(statements).toEqual([['ClientCredentials:a', 'Session:s', 'Grant:g']]);
  });

  test('keep a row that two requests write out of a shared statement', async () => {
    const statements: string[][] = [];
    const upsert = groupedUpserts(async (rows) => void statements.push(ids(rows)));
    await Promise.all([upsert([row('Session', 's')]), upsert([row('Session', 's'), row('Grant', 'g')]), upsert([row('Grant', 'h')])]);
    expect(statements).toEqual([['Session:s', 'Grant:h'], ['Session:s', 'Grant:g']]);
  });

  test("fail only the request whose rows the database refused, not the others' of its statement", async () => {
    const upsert = groupedUpserts(async (rows) => {
      if (rows.some((write) => write.id === 'bad')) throw new Error('refused');
    });
    const results = await Promise.allSettled([upsert([row('Grant', 'good')]), upsert([row('Grant', 'bad')])]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
  });

  test('share a statement up to the most it may hold, then go in the next', async () => {
    const statements: number[] = [];
    const upsert = createGroupedWrites<UpsertWrite[], number>({
      rowsOf: ids,
      maxGroups: 2,
      maxRows: 128,
      async write(groups) {
        statements.push(groups.length);
        return groups.map((_, index) => index);
      },
    });
    const results = await Promise.all(['a', 'b', 'c'].map((id) => upsert([row('Grant', id)])));
    expect(statements).toEqual([2, 1]);
    expect(results).toEqual([0, 1, 0]);
  });

  test('a request alone in its round gets the database error itself', async () => {
    const upsert = groupedUpserts(async () => {
      throw new Error('connection lost');
    });
    await expect(upsert([row('Grant', 'g')])).rejects.toThrow('connection lost');
  });
});
