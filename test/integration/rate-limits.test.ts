import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import type { Database } from '../../src/db/database.js';
import {
  createSignInLimits,
  delayAfterFailures,
  deleteExpiredRateLimits,
  SIGN_IN_LIMITS,
  type SignInLimitOptions,
  type SignInLimits,
} from '../../src/security/rate-limits.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

/** Small numbers, so each rule shows in a few attempts. */
const OPTIONS = {
  freeFailures: 3,
  firstDelaySeconds: 10,
  maxDelaySeconds: 40,
  streakWindowSeconds: 60 * 60,
  lockFailures: 8,
  lockSeconds: 120,
  failuresPerAddress: 20,
  addressWindowSeconds: 60,
} as const satisfies Required<SignInLimitOptions>;

describe('the delay after consecutive failures', () => {
  test('is nothing for the free failures, then 30 s doubling up to 15 minutes', () => {
    const delays = Array.from({ length: 12 }, (_, failures) => delayAfterFailures(failures));
    expect(delays).toEqual([0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]);
    expect(SIGN_IN_LIMITS.freeFailures).toBe(5);
  });
});

describe.each(backends)('sign-in rate limits on %s', (backend) => {
  let database: TestDatabase;
  let db: Database;
  let limits: SignInLimits;
  let now: number;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    db = database.db;
    limits = createSignInLimits(db, OPTIONS);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  beforeEach(async () => {
    await db('rate_limits').delete();
    now = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** Lets `seconds` go by on the clock the limits read. */
  const pass = (seconds: number) => {
    now += seconds * 1000;
  };

  /** One sign-in as the form makes it: admitted or told to wait, then right or wrong. Answers the wait, 0 when checked. */
  async function attempt(identifier: string, ip: string, right = false): Promise<number> {
    const { wait } = await limits.admit(identifier, ip);
    if (wait > 0) return wait;
    if (right) await limits.recordSuccess(identifier, ip);
    else await limits.recordFailure(identifier, ip);
    return 0;
  }

  async function fail(times: number, identifier: string | ((i: number) => string), ip: string | ((i: number) => string)) {
    for (let i = 0; i < times; i += 1) {
      const wait = await attempt(typeof identifier === 'string' ? identifier : identifier(i), typeof ip === 'string' ? ip : ip(i));
      if (wait > 0) throw new Error(`attempt ${i + 1} was told to wait ${wait} s`);
    }
  }

  test('lets one address fail a few times, then waits longer after each failure, counted from the last one', async () => {
    await fail(OPTIONS.freeFailures, 'ada@example.com', '192.0.2.1');
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(10);

    pass(6);
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(4);
    pass(4);
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(0);
    // That failure doubles the wait, and the clock starts at it.
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(20);
    pass(20);
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(0);
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(40);
    pass(40);
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(0);
    // The longest wait, and no longer.
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(40);
  });

  test('slows only the address that failed: the right password from another address goes through', async () => {
    await fail(OPTIONS.freeFailures, 'ada@example.com', '192.0.2.1');
    expect(await attempt('ada@example.com', '192.0.2.1')).toBeGreaterThan(0);

    expect(await attempt('ada@example.com', '198.51.100.7', true)).toBe(0);
    // Another identifier from the slowed address is not slowed either.
    expect(await attempt('grace@example.com', '192.0.2.1')).toBe(0);
  });

  test('a right password is refused while its address waits, and then starts that address afresh', async () => {
    await fail(OPTIONS.freeFailures, 'ada@example.com', '192.0.2.1');
    expect(await attempt('ada@example.com', '192.0.2.1', true)).toBe(10);

    pass(10);
    expect(await attempt('ada@example.com', '192.0.2.1', true)).toBe(0);
    // All the free failures again, not one.
    await fail(OPTIONS.freeFailures, 'ada@example.com', '192.0.2.1');
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(10);
  });

  test('locks the identifier for every address after many failures across addresses, for a while after the last', async () => {
    // Each address stays within its free failures.
    const address = (i: number) => `198.51.100.${Math.floor(i / OPTIONS.freeFailures) + 1}`;
    await fail(OPTIONS.lockFailures, 'ada@example.com', address);

    expect(await attempt('ada@example.com', '203.0.113.9', true)).toBe(OPTIONS.lockSeconds);
    expect(await attempt('grace@example.com', '203.0.113.9')).toBe(0);

    pass(OPTIONS.lockSeconds);
    expect(await attempt('ada@example.com', '203.0.113.9')).toBe(0);
    // One more failure locks it again at once, from wherever.
    expect(await attempt('ada@example.com', '203.0.113.10', true)).toBe(OPTIONS.lockSeconds);
    pass(OPTIONS.lockSeconds);
    expect(await attempt('ada@example.com', '203.0.113.10', true)).toBe(0);
    // The right password ended the streak: the next failures count from one.
    await fail(OPTIONS.freeFailures, 'ada@example.com', '203.0.113.11');
    expect(await attempt('ada@example.com', '203.0.113.12', true)).toBe(0);
  });

  test('recovered access lifts the lock, but leaves the addresses that were failing slowed', async () => {
    const address = (i: number) => `198.51.100.${i % 3}`;
    await fail(OPTIONS.lockFailures, 'ada@example.com', address);
    expect(await attempt('ada@example.com', '203.0.113.9')).toBeGreaterThan(0);

    await limits.recordSuccess('ada@example.com', '203.0.113.9');

    expect(await attempt('ada@example.com', '203.0.113.9', true)).toBe(0);
    expect(await attempt('ada@example.com', address(0))).toBeGreaterThan(0);
  });

  test('forgets the failures of an address after a window without any', async () => {
    await fail(OPTIONS.freeFailures, 'ada@example.com', '192.0.2.1');
    pass(OPTIONS.streakWindowSeconds - 1);
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(0);
    // That failure kept the streak: four failures now.
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(20);

    pass(OPTIONS.streakWindowSeconds);
    await fail(OPTIONS.freeFailures, 'ada@example.com', '192.0.2.1');
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(10);
  });

  test('counts failures per address across identifiers, and a success there does not clear them', async () => {
    // Two failures per identifier: no pair is slowed.
    await fail(OPTIONS.failuresPerAddress, (i) => `person${Math.floor(i / 2)}@example.com`, '192.0.2.1');

    const wait = await attempt('someone-new@example.com', '192.0.2.1', true);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(OPTIONS.addressWindowSeconds);
    expect(await attempt('someone-new@example.com', '192.0.2.2', true)).toBe(0);

    await limits.recordSuccess('person0@example.com', '192.0.2.1');
    expect(await attempt('person0@example.com', '192.0.2.1')).toBeGreaterThan(0);
    pass(OPTIONS.addressWindowSeconds);
    expect(await attempt('person0@example.com', '192.0.2.1')).toBe(0);
  });

  test('does not confuse an identifier with an address that reads the same', async () => {
    await fail(OPTIONS.lockFailures, '192.0.2.1', (i) => `198.51.100.${i % 3}`);
    expect(await attempt('192.0.2.1', '203.0.113.9')).toBeGreaterThan(0);
    expect(await attempt('ada@example.com', '192.0.2.1')).toBe(0);
    expect(await attempt('198.51.100.0', '192.0.2.1')).toBe(0);
  });

  test('admits only the free attempts of many made at the same moment from one address', async () => {
    const admissions = await Promise.all(Array.from({ length: 12 }, () => limits.admit('ada@example.com', '192.0.2.1')));
    const waits = admissions.map((admission) => admission.wait);
    expect(waits.filter((wait) => wait === 0)).toHaveLength(OPTIONS.freeFailures);
    expect(waits.filter((wait) => wait > 0).every((wait) => wait <= OPTIONS.firstDelaySeconds)).toBe(true);
  });

  describe('deleteExpiredRateLimits', () => {
    test('removes the counters whose window has ended and keeps the others', async () => {
      await fail(1, (i) => `gone${i}@example.com`, '192.0.2.1');
      pass(OPTIONS.streakWindowSeconds + 1);
      await fail(2, 'kept@example.com', '192.0.2.3');

      // The pair, the identifier and the address of the first attempt; the rest are fresh.
      expect(await deleteExpiredRateLimits(db)).toBe(3);
      expect(await db('rate_limits').count({ n: '*' }).then((rows) => Number(rows[0]!.n))).toBe(3);
      await fail(OPTIONS.freeFailures - 2, 'kept@example.com', '192.0.2.3');
      expect(await attempt('kept@example.com', '192.0.2.3')).toBe(OPTIONS.firstDelaySeconds);
    });

    test('removes nothing while every window is still open', async () => {
      await fail(2, 'ada@example.com', '192.0.2.1');
      expect(await deleteExpiredRateLimits(db)).toBe(0);
      expect(await db('rate_limits').count({ n: '*' }).then((rows) => Number(rows[0]!.n))).toBe(3);
    });
  });
});
