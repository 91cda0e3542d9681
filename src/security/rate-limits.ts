import type { Database } from '../db/database.js';

/**
 * Counters of attempts in a fixed window, kept in PostgreSQL so every instance
 * counts the same attempts. (rate-limiter-flexible's PostgreSQL store talks to
 * a raw pg connection, which the embedded PGlite database does not provide.)
 */
export interface AttemptCounter {
  /** Attempts recorded in the current window and when it ends (ms since epoch). */
  peek(key: string): Promise<{ attempts: number; resetAt: number }>;
  record(key: string): Promise<{ attempts: number; resetAt: number }>;
  reset(key: string): Promise<void>;
}

export function createAttemptCounter(db: Database, prefix: string, windowSeconds: number): AttemptCounter {
  const id = (key: string) => `${prefix}:${key}`.slice(0, 255);
  return {
    async peek(key) {
      const row = await db('rate_limits').where('key', id(key)).andWhere('expire', '>', Date.now()).first('points', 'expire');
      return row ? { attempts: Number(row.points), resetAt: Number(row.expire) } : { attempts: 0, resetAt: 0 };
    },
    async record(key) {
      const now = Date.now();
      // One statement, so concurrent attempts on any instance each count once.
      const result = await db.raw(
        `insert into rate_limits (key, points, expire) values (?, 1, ?)
         on conflict (key) do update set
           points = case when rate_limits.expire <= ? then 1 else rate_limits.points + 1 end,
           expire = case when rate_limits.expire <= ? then excluded.expire else rate_limits.expire end
         returning points, expire`,
        [id(key), now + windowSeconds * 1000, now, now],
      );
      const row = result.rows[0];
      return { attempts: Number(row.points), resetAt: Number(row.expire) };
    },
    async reset(key) {
      await db('rate_limits').where('key', id(key)).delete();
    },
  };
}

/**
 * Consecutive failures with no more than a window between two of them: each
 * failure pushes the row's expiry to a window after it, so the time of the
 * last failure is the expiry less the window, and a quiet window forgets
 * them all.
 */
export interface FailureStreak {
  peek(key: string): Promise<StreakState>;
  record(key: string): Promise<StreakState>;
  /**
   * Counts one more failure only if nobody else counted one since `seen` was
   * read: of two requests that both saw room for one more attempt, one wins.
   */
  recordAfter(key: string, seen: StreakState): Promise<boolean>;
  /**
   * Counts one try as a failure (until a reset says otherwise), unless
   * `waitAfter` finds the streak must wait first: answers 0, or the seconds to
   * wait. Of simultaneous tries that see room for one more, one is counted at
   * a time; one that keeps losing is told to wait `contended` seconds.
   */
  claim(key: string, waitAfter: (seen: StreakState) => number, contended: number): Promise<number>;
  reset(key: string): Promise<void>;
}

export interface StreakState {
  failures: number;
  /** When the last failure was counted (ms since epoch); 0 without failures. */
  lastAt: number;
}

const NO_FAILURES: StreakState = { failures: 0, lastAt: 0 };

export function createFailureStreak(db: Database, prefix: string, windowSeconds: number): FailureStreak {
  const id = (key: string) => `${prefix}:${key}`.slice(0, 255);
  const window = windowSeconds * 1000;
  const state = (row: { points: number | string; expire: number | string } | undefined): StreakState =>
    row ? { failures: Number(row.points), lastAt: Number(row.expire) - window } : NO_FAILURES;
  const streak: FailureStreak = {
    async peek(key) {
      return state(await db('rate_limits').where('key', id(key)).andWhere('expire', '>', Date.now()).first('points', 'expire'));
    },
    async record(key) {
      const now = Date.now();
      const result = await db.raw(
        `insert into rate_limits (key, points, expire) values (?, 1, ?)
         on conflict (key) do update set
           points = case when rate_limits.expire <= ? then 1 else rate_limits.points + 1 end,
           expire = excluded.expire
         returning points, expire`,
        [id(key), now + window, now],
      );
      return state(result.rows[0]);
    },
    async recordAfter(key, seen) {
      const now = Date.now();
      if (seen.failures === 0) {
        // No live row was seen: only a missing or expired one may be taken over.
        const result = await db.raw(
          `insert into rate_limits (key, points, expire) values (?, 1, ?)
           on conflict (key) do update set points = 1, expire = excluded.expire where rate_limits.expire <= ?
           returning points`,
          [id(key), now + window, now],
        );
        return result.rows.length === 1;
      }
      const result = await db.raw(
        `update rate_limits set points = points + 1, expire = ?
         where key = ? and points = ? and expire = ? and expire > ?
         returning points`,
        [now + window, id(key), seen.failures, seen.lastAt + window, now],
      );
      return result.rows.length === 1;
    },
    async claim(key, waitAfter, contended) {
      // Most tries find no failures on record (a success clears them): claim an empty streak first, read it only when that fails.
      let seen = NO_FAILURES;
      for (let round = 0; round < 10; round += 1) {
        if (await streak.recordAfter(key, seen)) return 0;
        seen = await streak.peek(key);
        const wait = waitAfter(seen);
        if (wait > 0) return wait;
      }
      return contended;
    },
    async reset(key) {
      await db('rate_limits').where('key', id(key)).delete();
    },
  };
  return streak;
}

/**
 * Password guessing slows the attacker, not the owner (NIST SP 800-63B-4
 * 3.2.2). Failures are counted per identifier and client address first: a few
 * are free, then each attempt from that address for that identifier waits
 * longer after the last failure. Only many failures across addresses lock the
 * identifier for everyone, and then only for a while after the last one, or
 * until access is recovered. Failures per address across identifiers (one
 * password tried against many profiles) have a limit of their own. Every
 * identifier is counted alike, registered or not, so being slowed reveals
 * nothing.
 */
/** The limit that refused a sign-in attempt: the pair's growing delay, the identifier's lock, or the address's cap. */
export type SignInRefusal = 'delay' | 'lock' | 'address';

export type Admission = { wait: 0; refusedBy?: undefined } | { wait: number; refusedBy: SignInRefusal };

export interface SignInLimits {
  /**
   * Admits one password check, counted as a failure until `recordSuccess`
   * says otherwise (so simultaneous attempts cannot share one free slot);
   * answers the seconds to wait instead, and which limit says so, when the
   * attempt may not go ahead.
   */
  admit(identifier: string, ip: string): Promise<Admission>;
  recordFailure(identifier: string, ip: string): Promise<void>;
  /** The password was right, or access was recovered: this address and the identifier start afresh. */
  recordSuccess(identifier: string, ip: string): Promise<void>;
}

export interface SignInLimitOptions {
  /** Failures per identifier and address before the delays start. */
  freeFailures?: number;
  /** The first delay; each further failure doubles it, up to `maxDelaySeconds`. */
  firstDelaySeconds?: number;
  maxDelaySeconds?: number;
  /** How long an identifier and address pair remembers its failures after the last one. */
  streakWindowSeconds?: number;
  /** Failures across every address that lock the identifier. */
  lockFailures?: number;
  /** How long the lock lasts after the last failure. */
  lockSeconds?: number;
  failuresPerAddress?: number;
  addressWindowSeconds?: number;
}

export const SIGN_IN_LIMITS = {
  freeFailures: 5,
  firstDelaySeconds: 30,
  maxDelaySeconds: 15 * 60,
  streakWindowSeconds: 24 * 60 * 60,
  lockFailures: 100,
  lockSeconds: 60 * 60,
  failuresPerAddress: 100,
  addressWindowSeconds: 15 * 60,
} as const satisfies Required<SignInLimitOptions>;

/** Seconds an attempt must wait after the last of `failures` consecutive failures from one address. */
export function delayAfterFailures(failures: number, options: SignInLimitOptions = {}): number {
  const { freeFailures, firstDelaySeconds, maxDelaySeconds } = { ...SIGN_IN_LIMITS, ...options };
  if (failures < freeFailures) return 0;
  return Math.min(firstDelaySeconds * 2 ** (failures - freeFailures), maxDelaySeconds);
}

export function createSignInLimits(db: Database, options: SignInLimitOptions = {}): SignInLimits {
  const limits = { ...SIGN_IN_LIMITS, ...options };
  // The pair's key cannot be mistaken for another's: an identifier holds no space.
  const pairKey = (identifier: string, ip: string) => `${identifier} ${ip}`;
  const byPair = createFailureStreak(db, 'signin-pair', limits.streakWindowSeconds);
  const byIdentifier = createFailureStreak(db, 'signin-identifier', limits.streakWindowSeconds);
  const byAddress = createAttemptCounter(db, 'signin-address', limits.addressWindowSeconds);
  const secondsUntil = (time: number) => Math.max(0, Math.ceil((time - Date.now()) / 1000));

  return {
    async admit(identifier, ip) {
      const [locked, spraying] = await Promise.all([byIdentifier.peek(identifier), byAddress.peek(ip)]);
      const lockWait = locked.failures >= limits.lockFailures ? secondsUntil(locked.lastAt + limits.lockSeconds * 1000) : 0;
      const addressWait = spraying.attempts >= limits.failuresPerAddress ? secondsUntil(spraying.resetAt) : 0;
      // The lock is named when it applies: it is what the person is told about ("Forgot password?" works meanwhile).
      if (lockWait > 0) return { wait: Math.max(lockWait, addressWait), refusedBy: 'lock' };
      if (addressWait > 0) return { wait: addressWait, refusedBy: 'address' };
      const delay = await byPair.claim(
        pairKey(identifier, ip),
        (seen) => secondsUntil(seen.lastAt + delayAfterFailures(seen.failures, limits) * 1000),
        delayAfterFailures(limits.freeFailures, limits),
      );
      return delay > 0 ? { wait: delay, refusedBy: 'delay' } : { wait: 0 };
    },
    async recordFailure(identifier, ip) {
      await byIdentifier.record(identifier);
      await byAddress.record(ip);
    },
    async recordSuccess(identifier, ip) {
      await byPair.reset(pairKey(identifier, ip));
      await byIdentifier.reset(identifier);
    },
  };
}

export async function deleteExpiredRateLimits(db: Database): Promise<number> {
  // Not the query builder's delete(): under knex-pglite it resolves to the driver's result object, not a count.
  const result = await db.raw('delete from rate_limits where expire < ?', [Date.now()]);
  return Number(result.rowCount ?? result.affectedRows ?? 0);
}
