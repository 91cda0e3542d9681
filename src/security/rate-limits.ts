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
 * Failed sign-ins are counted per identifier (slows guessing one profile's
 * password from many addresses) and per client address (slows trying one
 * password against many profiles).
 */
export interface SignInLimits {
  /** Seconds to wait when blocked, or 0 when the attempt may go ahead. */
  retryAfter(identifier: string, ip: string): Promise<number>;
  recordFailure(identifier: string, ip: string): Promise<void>;
  recordSuccess(identifier: string): Promise<void>;
}

export interface SignInLimitOptions {
  failuresPerIdentifier?: number;
  failuresPerAddress?: number;
  windowSeconds?: number;
}

export function createSignInLimits(db: Database, options: SignInLimitOptions = {}): SignInLimits {
  const windowSeconds = options.windowSeconds ?? 15 * 60;
  const limits = [
    { counter: createAttemptCounter(db, 'signin-identifier', windowSeconds), max: options.failuresPerIdentifier ?? 10 },
    { counter: createAttemptCounter(db, 'signin-address', windowSeconds), max: options.failuresPerAddress ?? 100 },
  ] as const;
  const [byIdentifier, byAddress] = limits;

  return {
    async retryAfter(identifier, ip) {
      const states = await Promise.all([byIdentifier.counter.peek(identifier), byAddress.counter.peek(ip)]);
      let wait = 0;
      states.forEach((state, i) => {
        if (state.attempts >= limits[i]!.max) wait = Math.max(wait, Math.ceil((state.resetAt - Date.now()) / 1000));
      });
      return wait;
    },
    async recordFailure(identifier, ip) {
      await byIdentifier.counter.record(identifier);
      await byAddress.counter.record(ip);
    },
    async recordSuccess(identifier) {
      await byIdentifier.counter.reset(identifier);
    },
  };
}

export async function deleteExpiredRateLimits(db: Database): Promise<number> {
  // Not the query builder's delete(): under knex-pglite it resolves to the driver's result object, not a count.
  const result = await db.raw('delete from rate_limits where expire < ?', [Date.now()]);
  return Number(result.rowCount ?? result.affectedRows ?? 0);
}
