import type { Database } from '../db/database.js';
import { createFailureStreak, delayAfterFailures, SIGN_IN_LIMITS } from './rate-limits.js';

/**
 * Wrong second factors (authenticator codes, recovery codes) are slowed as
 * wrong passwords are (NIST SP 800-63B-4 3.2.2): a few free, then each try
 * waits after the last failure, 30 s doubling up to 15 minutes, until a right
 * one or a quiet day. Counted per profile, as whoever guesses already has the
 * password: six digits must not be tried a million times from many addresses.
 */
export interface SecondFactorLimits {
  /** Admits one try, counted as a failure until `succeeded`; answers the seconds to wait instead. */
  admit(profileId: string): Promise<number>;
  succeeded(profileId: string): Promise<void>;
}

export function createSecondFactorLimits(db: Database): SecondFactorLimits {
  const streak = createFailureStreak(db, 'second-factor', SIGN_IN_LIMITS.streakWindowSeconds);
  const secondsUntil = (time: number) => Math.max(0, Math.ceil((time - Date.now()) / 1000));
  return {
    admit: (profileId) =>
      streak.claim(profileId, (seen) => secondsUntil(seen.lastAt + delayAfterFailures(seen.failures) * 1000), delayAfterFailures(SIGN_IN_LIMITS.freeFailures)),
    async succeeded(profileId) {
      await streak.reset(profileId);
    },
  };
}
