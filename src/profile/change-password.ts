import type { AuditQueries } from '../db/audit.js';
import type { Database } from '../db/database.js';
import type { Profile } from '../db/profiles.js';
import type { MessageKey } from '../i18n/messages.js';
import { notifyBackchannelLogout, type BackchannelLogoutDependencies } from '../oidc/backchannel-logout.js';
import { endProfileSessions } from '../oidc/end-profile-sessions.js';
import type { Metrics } from '../operations/metrics.js';
import { passwordProblem } from '../security/password-policy.js';
import { checkPassword, hashPassword } from '../security/passwords.js';
import { createAttemptCounter } from '../security/rate-limits.js';
import { PASSWORD_PROBLEM_MESSAGES } from './sign-up.js';

export interface PasswordChangeDependencies extends BackchannelLogoutDependencies {
  db: Database;
  audit: AuditQueries;
}

export type PasswordChangeErrors = Partial<Record<'current' | 'password' | 'form', MessageKey>>;

/** Wrong current passwords per profile in 15 minutes before the form stops checking. */
const WRONG_CURRENT_PER_WINDOW = 10;

/**
 * Checks that the person knows the profile's password before something
 * irreversible (a password change, deleting the profile), with a limit on
 * guesses per profile so a left-open browser cannot be used to find it.
 */
export function createPasswordCheck(db: Database, metrics: Pick<Metrics, 'rateLimitRefusals'>) {
  const wrongTries = createAttemptCounter(db, 'current-password', 15 * 60);
  return async (profile: Profile, password: string): Promise<{ ok: true } | { ok: false; errorKey: MessageKey }> => {
    const { attempts } = await wrongTries.peek(profile.id);
    if (attempts >= WRONG_CURRENT_PER_WINDOW) {
      metrics.rateLimitRefusals.inc({ limit: 'current_password' });
      return { ok: false, errorKey: 'password.current_throttled' };
    }
    if (!password) return { ok: false, errorKey: 'password.current_missing' };
    const check = await checkPassword(profile.password_hash, password);
    if (!check.valid) {
      await wrongTries.record(profile.id);
      return { ok: false, errorKey: 'password.current_wrong' };
    }
    return { ok: true };
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
  deps: PasswordChangeDependencies & { checkCurrent: PasswordCheck },
  input: { profile: Profile; current: string; password: string; keepSessionId: string },
): Promise<{ ok: true } | { ok: false; errors: PasswordChangeErrors }> {
  const { profile } = input;
  if (profile.password_hash) {
    const current = await deps.checkCurrent(profile, input.current);
    if (!current.ok) return { ok: false, errors: { current: current.errorKey } };
  }
  const problem = passwordProblem(input.password, [profile.email ?? '', profile.phone ?? ''].filter(Boolean));
  if (problem) return { ok: false, errors: { password: PASSWORD_PROBLEM_MESSAGES[problem] } };
  const passwordHash = await hashPassword(input.password);
  const logouts = await deps.db.transaction(async (trx) => {
    await trx('profiles').where({ id: profile.id }).update({ password_hash: passwordHash, updated_at: trx.fn.now() });
    const ended = await endProfileSessions(trx, profile.id, { keepSessionId: input.keepSessionId });
    await deps.audit.record({ kind: profile.password_hash ? 'profile.password_changed' : 'profile.password_set', profileId: profile.id }, trx);
    return ended;
  });
  notifyBackchannelLogout(deps.provider, deps.logger, logouts);
  return { ok: true };
}
