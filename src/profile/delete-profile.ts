import type { Actor } from '../db/audit.js';
import type { Profile } from '../db/profiles.js';
import type { Queries } from '../db/queries.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import type { CurrentPasswordProblem } from './change-password.js';
import type { ProfileServiceDependencies } from './profile-service.js';

/** The accounts that still hold the profile: deletion waits until it is dismissed from each. */
export async function connectedAccounts(queries: Queries, profileId: string): Promise<string[]> {
  const all = await queries.memberships.listForProfile(profileId);
  return all.filter((m) => m.state !== 'dismissed').map((m) => m.account_name);
}

export type DeletionOutcome = Outcome<object, CurrentPasswordProblem | 'accounts-remain' | 'deletion-not-confirmed'> & { accounts?: string[] };

/**
 * Delete the profile (product.md 9): only when no account is connected, and
 * only with the password again (or, without a password, an explicit
 * confirmation). The person's data goes (profile, photos, memberships,
 * identities, codes, cascaded by the schema) together with every session,
 * grant and token, in one transaction; the accounts those sessions reached
 * are told once it has committed. The audit trail keeps the profile's id and
 * nothing personal.
 */
export async function deleteProfile(
  deps: ProfileServiceDependencies,
  input: { profile: Profile; password: string; confirmed: boolean },
  actor: Actor,
): Promise<DeletionOutcome> {
  const { profile } = input;
  const remaining = await connectedAccounts(deps.queries, profile.id);
  if (remaining.length) return { ...refuse('accounts-remain'), accounts: remaining };
  if (profile.password_hash) {
    const current = await deps.checkCurrent(profile, input.password);
    if (!current.ok) return current;
  } else if (!input.confirmed) {
    return refuse('deletion-not-confirmed');
  }
  return deps.queries.transaction(async (queries): Promise<DeletionOutcome> => {
    // Checked again inside the transaction: an invitation may have arrived meanwhile.
    const now = await connectedAccounts(queries, profile.id);
    if (now.length) return { ...refuse('accounts-remain'), accounts: now };
    const logouts = await queries.sessions.endProfileSessions(profile.id);
    await queries.profiles.delete(profile.id);
    await queries.audit.record({ kind: 'profile.deleted', profileId: profile.id, actor });
    queries.afterCommit(() => deps.notifyLogout(logouts));
    return ok({});
  });
}
