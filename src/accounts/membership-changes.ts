import type { AccountDependencies } from './create-account.js';
import type { MembershipRole, MembershipState } from '../db/memberships.js';
import { notifyBackchannelLogout } from '../oidc/backchannel-logout.js';
import { endClientSessions } from '../oidc/end-profile-sessions.js';

export class MembershipError extends Error {
  override name = 'MembershipError';
}

/** Invites (or adds as active) a profile to an account. */
export async function addMember(
  deps: AccountDependencies,
  input: { accountId: string; profileId: string; role: MembershipRole; state: Extract<MembershipState, 'invited' | 'active'> },
): Promise<void> {
  await deps.db.transaction(async (trx) => {
    const existing = await deps.memberships.find(input.accountId, input.profileId, trx);
    if (existing && existing.state !== 'dismissed') {
      throw new MembershipError(`the profile is already ${existing.state} in this account`);
    }
    if (existing) {
      await trx('memberships')
        .where({ account_id: input.accountId, profile_id: input.profileId })
        .update({ state: input.state, role: input.role, updated_at: trx.fn.now() });
    } else {
      await deps.memberships.insert(input, trx);
    }
    await deps.audit.record({ kind: 'membership.added', profileId: input.profileId, accountId: input.accountId, detail: { role: input.role, state: input.state } }, trx);
  });
}

/**
 * Dismisses a member: the account's client stops accepting the profile at once,
 * every grant (with its tokens) the profile gave that client is revoked, and
 * once that has committed the account is told to end the sessions it holds
 * for the profile. Other accounts keep theirs.
 */
export async function dismissMember(deps: AccountDependencies, input: { accountId: string; profileId: string }): Promise<void> {
  const logouts = await deps.db.transaction(async (trx) => {
    const changed = await deps.memberships.changeState(input.accountId, input.profileId, ['invited', 'active'], 'dismissed', trx);
    if (!changed) throw new MembershipError('the profile is not an invited or active member of this account');
    const client = await deps.clients.findByAccount(input.accountId, trx);
    const ended = client ? await endClientSessions(trx, input.profileId, client.client_id) : [];
    await deps.audit.record({ kind: 'membership.dismissed', profileId: input.profileId, accountId: input.accountId }, trx);
    return ended;
  });
  notifyBackchannelLogout(deps.provider, deps.logger, logouts);
}
