import type { Database } from '../db/database.js';
import { createAttemptCounter } from '../security/rate-limits.js';

export interface RecoveryLimitOptions {
  requestsPerIdentifier?: number;
  requestsPerAddress?: number;
  windowSeconds?: number;
}

/**
 * Requests for a recovery code, counted per identifier (a person's inbox or
 * phone is not flooded, and nobody can keep rolling codes to guess one) and
 * per client address (one machine cannot probe many identifiers). Both count
 * identifiers that belong to nobody alike, so being throttled reveals nothing.
 * The one-minute resend throttle of the codes themselves comes on top.
 */
export function createRecoveryLimits(db: Database, options: RecoveryLimitOptions = {}) {
  const windowSeconds = options.windowSeconds ?? 60 * 60;
  const limits = [
    { counter: createAttemptCounter(db, 'recovery-identifier', windowSeconds), max: options.requestsPerIdentifier ?? 5 },
    { counter: createAttemptCounter(db, 'recovery-address', windowSeconds), max: options.requestsPerAddress ?? 30 },
  ] as const;

  return {
    /** Counts one request; answers the seconds to wait when it is over a limit, else 0. */
    async record(identifier: string, ip: string): Promise<number> {
      const states = [await limits[0].counter.record(identifier), await limits[1].counter.record(ip)];
      let wait = 0;
      states.forEach((state, i) => {
        if (state.attempts > limits[i]!.max) wait = Math.max(wait, Math.ceil((state.resetAt - Date.now()) / 1000));
      });
      return wait;
    },
  };
}

export type RecoveryLimits = ReturnType<typeof createRecoveryLimits>;
