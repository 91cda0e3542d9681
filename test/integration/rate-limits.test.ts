import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import type { Database } from '../../src/db/database.js';
import { createSignInLimits, deleteExpiredRateLimits, type SignInLimits } from '../../src/security/rate-limits.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const WINDOW_SECONDS = 60;
const PER_IDENTIFIER = 3;
const PER_ADDRESS = 5;

describe.each(backends)('sign-in rate limits on %s', (backend) => {
  let database: TestDatabase;
  let db: Database;
  let limits: SignInLimits;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    db = database.db;
    limits = createSignInLimits(db, {
      failuresPerIdentifier: PER_IDENTIFIER,
      failuresPerAddress: PER_ADDRESS,
      windowSeconds: WINDOW_SECONDS,
    });
  });

  afterAll(async () => {
    await database?.dispose();
  });

  beforeEach(async () => {
    await db('rate_limits').delete();
  });

  async function fail(times: number, identifier: string | ((i: number) => string), ip: string | ((i: number) => string)) {
    for (let i = 0; i < times; i += 1) {
      await limits.recordFailure(typeof identifier === 'string' ? identifier : identifier(i), typeof ip === 'string' ? ip : ip(i));
    }
  }

  /** Ends every window now, as if WINDOW_SECONDS had gone by. */
  const endAllWindows = () => db('rate_limits').update({ expire: Date.now() - 1 });

  test('lets an identifier fail up to the limit, then asks to wait until the window ends', async () => {
    expect(await limits.retryAfter('ada@example.com', '192.0.2.1')).toBe(0);

    await fail(PER_IDENTIFIER - 1, 'ada@example.com', '192.0.2.1');
    expect(await limits.retryAfter('ada@example.com', '192.0.2.1')).toBe(0);

    await fail(1, 'ada@example.com', '192.0.2.1');
    const wait = await limits.retryAfter('ada@example.com', '192.0.2.1');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(WINDOW_SECONDS);
  });

  test('blocks the identifier from every address, and only that identifier', async () => {
    await fail(PER_IDENTIFIER, 'ada@example.com', (i) => `198.51.100.${i + 1}`);

    expect(await limits.retryAfter('ada@example.com', '203.0.113.9')).toBeGreaterThan(0);
    expect(await limits.retryAfter('grace@example.com', '198.51.100.1')).toBe(0);
  });

  test('forgets the identifier failures after a successful sign-in', async () => {
    // Each attempt from its own address, so the address limit stays out of the way.
    const address = (i: number) => `198.51.100.${i + 1}`;
    await fail(PER_IDENTIFIER, 'ada@example.com', address);
    expect(await limits.retryAfter('ada@example.com', '203.0.113.9')).toBeGreaterThan(0);

    await limits.recordSuccess('ada@example.com');

    expect(await limits.retryAfter('ada@example.com', '203.0.113.9')).toBe(0);
    // The count starts again from zero rather than from just under the limit.
    await fail(PER_IDENTIFIER - 1, 'ada@example.com', (i) => address(i + PER_IDENTIFIER));
    expect(await limits.retryAfter('ada@example.com', '203.0.113.9')).toBe(0);
  });

  test('counts failures per address across identifiers, separately from the identifier limit', async () => {
    await fail(PER_ADDRESS, (i) => `person${i}@example.com`, '192.0.2.1');

    const wait = await limits.retryAfter('someone-new@example.com', '192.0.2.1');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(WINDOW_SECONDS);
    expect(await limits.retryAfter('someone-new@example.com', '192.0.2.2')).toBe(0);
  });

  test('keeps the address blocked after a successful sign-in from it', async () => {
    await fail(PER_ADDRESS, (i) => `person${i}@example.com`, '192.0.2.1');
    await limits.recordSuccess('person0@example.com');
    expect(await limits.retryAfter('person0@example.com', '192.0.2.1')).toBeGreaterThan(0);
  });

  test('does not confuse an identifier with an address that reads the same', async () => {
    await fail(PER_IDENTIFIER, '192.0.2.1', '198.51.100.1');
    expect(await limits.retryAfter('ada@example.com', '192.0.2.1')).toBe(0);
  });

  test('starts afresh once the window has ended', async () => {
    await fail(PER_IDENTIFIER, 'ada@example.com', '192.0.2.1');
    await fail(PER_ADDRESS, (i) => `person${i}@example.com`, '192.0.2.1');
    expect(await limits.retryAfter('ada@example.com', '192.0.2.1')).toBeGreaterThan(0);

    await endAllWindows();

    expect(await limits.retryAfter('ada@example.com', '192.0.2.1')).toBe(0);
    // Failures in the new window count from one, not on top of the old window's.
    await fail(PER_IDENTIFIER - 1, 'ada@example.com', '192.0.2.1');
    expect(await limits.retryAfter('ada@example.com', '192.0.2.1')).toBe(0);
    await fail(1, 'ada@example.com', '192.0.2.1');
    expect(await limits.retryAfter('ada@example.com', '192.0.2.1')).toBeGreaterThan(0);
  });

  test('starts afresh after a real one-second window', async () => {
    const quick = createSignInLimits(db, { failuresPerIdentifier: 1, failuresPerAddress: 100, windowSeconds: 1 });
    await quick.recordFailure('ada@example.com', '192.0.2.1');
    expect(await quick.retryAfter('ada@example.com', '192.0.2.1')).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, 1100));

    expect(await quick.retryAfter('ada@example.com', '192.0.2.1')).toBe(0);
  });

  test('counts each of many simultaneous failures once', async () => {
    await Promise.all(Array.from({ length: PER_IDENTIFIER - 1 }, () => limits.recordFailure('ada@example.com', '192.0.2.1')));
    expect(await limits.retryAfter('ada@example.com', '192.0.2.1')).toBe(0);

    await Promise.all(Array.from({ length: 2 }, () => limits.recordFailure('ada@example.com', '192.0.2.1')));
    expect(await limits.retryAfter('ada@example.com', '192.0.2.1')).toBeGreaterThan(0);
    const row = await db('rate_limits').where('key', 'like', '%ada@example.com').first('points');
    expect(Number(row.points)).toBe(PER_IDENTIFIER + 1);
  });

  describe('deleteExpiredRateLimits', () => {
    test('removes the counters whose window has ended and keeps the others', async () => {
      await fail(1, (i) => `gone${i}@example.com`, '192.0.2.1');
      await fail(1, 'gone-too@example.com', '192.0.2.2');
      await endAllWindows();
      await fail(2, 'kept@example.com', '192.0.2.3');

      // The two ended identifier counters and the two ended address counters.
      expect(await deleteExpiredRateLimits(db)).toBe(4);

      expect(await limits.retryAfter('kept@example.com', '192.0.2.3')).toBe(0);
      await fail(PER_IDENTIFIER - 2, 'kept@example.com', '192.0.2.3');
      expect(await limits.retryAfter('kept@example.com', '192.0.2.3')).toBeGreaterThan(0);
      expect(await db('rate_limits').count({ n: '*' }).then((rows) => Number(rows[0]!.n))).toBe(2);
    });

    test('removes nothing while every window is still open', async () => {
      await fail(2, 'ada@example.com', '192.0.2.1');
      expect(await deleteExpiredRateLimits(db)).toBe(0);
      expect(await db('rate_limits').count({ n: '*' }).then((rows) => Number(rows[0]!.n))).toBe(2);
    });
  });
});
