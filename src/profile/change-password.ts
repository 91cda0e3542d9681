import type { Actor } from '../db/audit.js';
import type { Database } from '../db/database.js';
import type { Profile } from '../db/profiles.js';
import type { Metrics } from '../operations/metrics.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import { passwordProblem } from '../security/password-policy.js';
import { checkPassword, hashPassword } from '../security/passwords.js';
import { createAttemptCounter } from '../security/rate-limits.js';
import type { ProfileServiceDependencies } from './profile-service.js';
import { PASSWORD_PROBLEM_MESSAGES } from './sign-up.js';

/** Wrong current passwords per profile in 15 minutes before the form stops checking. */
const WRONG_CURRENT_PER_WINDOW = 10;

export type CurrentPasswordProblem = 'current-password-throttled' | 'current-password-missing' | 'current-password-wrong';

/**
 * Checks that the person knows the profile's password before something
 * irreversible (a password change, deleting the profile), with a limit on
 * guesses per profile so a left-open browser cannot be used to find it.
 */
export function createPasswordCheck(db: Database, metrics: Pick<Metrics, 'rateLimitRefusals'>) {
  const wrongTries = createAttemptCounter(db, 'current-password', 15 * 60);
  return async (profile: Profile, password: string): Promise<Outcome<object, CurrentPasswordProblem>> => {
    const { attempts } = await wrongTries.peek(profile.id);
    if (attempts >= WRONG_CURRENT_PER_WINDOW) return refuse('current-password-throttled');
    if (!password) return refuse('current-password-missing');
    const check = await checkPassword(profile.password_hash, password);
    if (!check.valid) {
      await wrongTries.record(profile.id);
      return refuse('current-password-wrong');
    }
    return ok({});
  };
}

export type PasswordCheck = ReturnType<typeof createPasswordCheck>;

/**
 * Change password (product.md 7): the current password plus a new one; a
 * profile without a password (made through social login) sets its first.
 * Every other browser signed in to the profile is signed out, with the
 * grants they hold (OWASP ASVS 3.3.3), and the accounts they reached are told
 * once the change has committed; the browser that made the change stays.
 */
export async function changePassword(
  deps: ProfileServiceDependencies,
  input: { profile: Profile; current: string; password: string; keepSessionId: string },
  actor: Actor,
): Promise<Outcome<object, CurrentPasswordProblem | 'form-invalid'>> {
  const { profile } = input;
  if (profile.password_hash) {
    const current = await deps.checkCurrent(profile, input.current);
    if (!current.ok) return refuse(current.problem, { fields: { current: PROFILE_FIELD_MESSAGES[current.problem] } });
  }
  const problem = passwordProblem(input.password, [profile.email ?? '', profile.phone ?? ''].filter(Boolean));
  if (problem) return refuse('form-invalid', { fields: { password: PASSWORD_PROBLEM_MESSAGES[problem] } });
  const passwordHash = await hashPassword(input.password);
  await deps.queries.transaction(async (queries) => {
    await queries.profiles.setPasswordHash(profile.id, passwordHash);
    const ended = await queries.sessions.endProfileSessions(profile.id, { keepSessionId: input.keepSessionId });
    await queries.audit.record({ kind: profile.password_hash ? 'profile.password_changed' : 'profile.password_set', profileId: profile.id, actor });
    queries.afterCommit(() => deps.notifyLogout(ended));
  });
  return ok({});
}

/** What the current-password field says for each of its problems. */
export const PROFILE_FIELD_MESSAGES = {
  'current-password-throttled': 'password.current_throttled',
  'current-password-missing': 'password.current_missing',
  'current-password-wrong': 'password.current_wrong',
} as const;
