import type { AuditQueries } from '../db/audit.js';
import type { Database } from '../db/database.js';
import type { MembershipQueries } from '../db/memberships.js';
import type { Profile } from '../db/profiles.js';
import type { MessageKey } from '../i18n/messages.js';
import { notifyBackchannelLogout, type BackchannelLogoutDependencies } from '../oidc/backchannel-logout.js';
import { endProfileSessions } from '../oidc/end-profile-sessions.js';
import type { PasswordCheck } from './change-password.js';

export interface ProfileDeletionDependencies extends BackchannelLogoutDependencies {
  db: Database;
  memberships: MembershipQueries;
  audit: AuditQueries;
  checkCurrent: PasswordCheck;
}

/** The accounts that still hold the profile: deletion waits until it is dismissed from each. */
export async function connectedAccounts(memberships: MembershipQueries, profileId: string, trx?: Database): Promise<string[]> {
  const all = await memberships.listForProfile(profileId, trx);
  return all.filter((m) => m.state !== 'dismissed').map((m) => m.account_name);
}

/**
 * Delete the profile (product.md 9): only when no account is connected, and
 * only with the password again. The person's data goes (profile, photos,
 * memberships, identities, codes, cascaded by the schema) together with every
 * session, grant and token, in one transaction; the accounts those sessions
 * reached are told once it has committed. The audit trail keeps the
 * profile's id and nothing personal.
 */
export async function deleteProfile(
  deps: ProfileDeletionDependencies,
  input: { profile: Profile; password: string; confirmed: boolean },
): Promise<{ ok: true } | { ok: false; errorKey: MessageKey; accounts?: string[] }> {
  const { profile } = input;
  const remaining = await connectedAccounts(deps.memberships, profile.id);
  if (remaining.length) return { ok: false, errorKey: 'delete.accounts_remain', accounts: remaining };
  if (profile.password_hash) {
    const current = await deps.checkCurrent(profile, input.password);
    if (!current.ok) return current;
  } else if (!input.confirmed) {
    return { ok: false, errorKey: 'delete.confirm_required' };
  }
  const outcome = await deps.db.transaction(async (trx) => {
    // Checked again inside the transaction: an invitation may have arrived meanwhile.
    const now = await connectedAccounts(deps.memberships, profile.id, trx);
    if (now.length) return { ok: false as const, errorKey: 'delete.accounts_remain' as MessageKey, accounts: now };
    const logouts = await endProfileSessions(trx, profile.id);
    await trx('profiles').where({ id: profile.id }).delete();
    await deps.audit.record({ kind: 'profile.deleted', profileId: profile.id }, trx);
    return { ok: true as const, logouts };
  });
  if (!outcome.ok) return outcome;
  notifyBackchannelLogout(deps.provider, deps.logger, outcome.logouts);
  return { ok: true };
}
