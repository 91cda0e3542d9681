import { createHmac, randomBytes } from 'node:crypto';
import type { BackchannelLogout } from '../oidc/backchannel-logout.js';
import type { Actor } from '../db/audit.js';
import type { Membership, MembershipRole, MembershipState } from '../db/memberships.js';
import type { Page } from '../db/profiles.js';
import type { Queries } from '../db/queries.js';
import { ok, refuse, type Outcome, type ProblemTable } from '../outcome.js';
import { parseIdentifier } from '../profile/identifier.js';

export type MembershipProblem =
  | 'account-not-found'
  | 'profile-not-found'
  | 'member-not-found'
  | 'already-member'
  | 'member-not-dismissed'
  | 'last-admin'
  | 'invitation-address-invalid';

export const MEMBERSHIP_PROBLEMS: ProblemTable<MembershipProblem> = {
  'account-not-found': { status: 404, messageKey: 'problem.account_not_found' },
  'profile-not-found': { status: 404, messageKey: 'problem.profile_not_found' },
  'member-not-found': { status: 404, messageKey: 'problem.member_not_found' },
  'already-member': { status: 409, messageKey: 'problem.already_member' },
  'member-not-dismissed': { status: 409, messageKey: 'problem.member_not_dismissed' },
  'last-admin': { status: 409, messageKey: 'problem.last_admin' },
  'invitation-address-invalid': { status: 400, messageKey: 'problem.invitation_address_invalid' },
};

/** How long a sign-up link sent with an invitation works. */
export const INVITATION_DAYS = 14;

export interface MembershipServiceDependencies {
  queries: Queries;
  /** Tells the accounts whose sessions a change ended, once it has committed (notifyBackchannelLogout). */
  notifyLogout(logouts: readonly BackchannelLogout[]): void;
  issuer: string;
  defaultPhoneRegion: string | undefined;
  /** Key of the invitation links' hashes (the one-time-code key). */
  linkKey: Buffer;
  wakeDelivery(): void;
}

/** What an invitation did: a membership for a profile that had the address, or a link to sign up for one that had none. */
export type InvitationOutcome =
  | { sent: 'membership'; membership: Membership }
  | { sent: 'sign-up-link'; address: string; expiresAt: Date };

/**
 * Memberships: who is in an account, with which role and state. Every change
 * to one goes through here, from the network pages, the sign-in (an invited
 * membership becomes active), the command line and the management API, with
 * its audit record in the same transaction.
 */
export function createMembershipService(deps: MembershipServiceDependencies) {
  const linkHash = (token: string) => createHmac('sha256', deps.linkKey).update(`invitation:${token}`).digest('base64url');

  /** The last active admin can be neither dismissed nor demoted: an account always has someone to run it. */
  async function keepsAnAdmin(queries: Queries, accountId: string, profileId: string): Promise<boolean> {
    const admins = await queries.memberships.activeAdminsForUpdate(accountId);
    return !(admins.length === 1 && admins[0] === profileId);
  }

  return {
    async find(accountId: string, profileId: string) {
      return deps.queries.memberships.find(accountId, profileId);
    },

    listMembers(
      accountId: string,
      filter: { state?: MembershipState | undefined; role?: MembershipRole | undefined },
      page: { limit: number; after?: string | undefined },
    ): Promise<Page<Membership>> {
      return deps.queries.memberships.listMembers(accountId, filter, page);
    },

    /** An invited membership becomes active at the first sign-in to the account (or the click on My Network that leads there). */
    async activateInvited(accountId: string, profileId: string, actor: Actor): Promise<boolean> {
      return deps.queries.transaction(async (queries) => {
        if (!(await queries.memberships.changeState(accountId, profileId, ['invited'], 'active'))) return false;
        await queries.audit.record({ kind: 'membership.activated', profileId, accountId, clientId: actor.clientId, actor });
        return true;
      });
    },

    /** Puts a profile in an account directly (the operator's command): active, or invited. */
    async add(
      accountId: string,
      profileId: string,
      membership: { role: MembershipRole; state: 'invited' | 'active' },
      actor: Actor,
    ): Promise<Outcome<{ membership: Membership }, 'account-not-found' | 'profile-not-found' | 'already-member'>> {
      return deps.queries.transaction(async (queries) => {
        if (!(await queries.accounts.findById(accountId))) return refuse('account-not-found');
        if (!(await queries.profiles.findById(profileId))) return refuse('profile-not-found');
        const existing = await queries.memberships.find(accountId, profileId);
        if (existing && existing.state !== 'dismissed') return refuse('already-member');
        if (existing) await queries.memberships.changeState(accountId, profileId, ['dismissed'], membership.state, membership.role);
        else await queries.memberships.insert({ accountId, profileId, ...membership });
        await queries.audit.record({ kind: 'membership.added', profileId, accountId, actor, detail: membership });
        return ok({ membership: (await queries.memberships.find(accountId, profileId))! });
      });
    },

    /**
     * Invites the person at an email or phone. A profile that has it (an email,
     * or a confirmed phone) is invited at once and told; where nobody has it, a
     * sign-up link goes there, and whoever signs up and confirms that address
     * joins the account (acceptInvitations). A dismissed member comes back invited.
     */
    async invite(
      accountId: string,
      input: { address: string; role: MembershipRole; locale: string },
      actor: Actor,
    ): Promise<Outcome<InvitationOutcome, 'account-not-found' | 'already-member' | 'invitation-address-invalid'>> {
      const identifier = parseIdentifier(input.address, deps.defaultPhoneRegion);
      if (!identifier) return refuse('invitation-address-invalid', { fields: { address: 'problem.invitation_address_invalid' } });
      const channel = identifier.kind === 'email' ? 'email' : 'sms';
      const outcome = await deps.queries.transaction(async (queries): Promise<Outcome<InvitationOutcome, 'account-not-found' | 'already-member'>> => {
        const account = await queries.accounts.findById(accountId);
        if (!account) return refuse('account-not-found');
        const profile = await queries.profiles.findByIdentifier(identifier.value);
        const reachable = profile && (identifier.kind === 'email' || profile.phone_verified);
        if (profile && reachable) {
          const existing = await queries.memberships.find(accountId, profile.id);
          if (existing && existing.state !== 'dismissed') return refuse('already-member');
          if (existing) await queries.memberships.changeState(accountId, profile.id, ['dismissed'], 'invited', input.role);
          else await queries.memberships.insert({ accountId, profileId: profile.id, role: input.role, state: 'invited' });
          await queries.outbox.enqueue({
            channel,
            recipient: identifier.value,
            template: 'membership-invitation',
            locale: profile.locale ?? input.locale,
            params: { account: account.name, link: `${deps.issuer}/network` },
          });
          await queries.audit.record({ kind: 'membership.invited', profileId: profile.id, accountId, actor, detail: { role: input.role, channel } });
          return ok({ sent: 'membership' as const, membership: (await queries.memberships.find(accountId, profile.id))! });
        }
        const token = randomBytes(32).toString('base64url');
        const expiresAt = new Date(Date.now() + INVITATION_DAYS * 24 * 60 * 60 * 1000);
        await queries.invitations.insert({
          accountId,
          role: input.role,
          address: identifier.value,
          tokenHash: linkHash(token),
          invitedByProfile: actor.profileId,
          invitedByClient: actor.clientId,
          expiresAt,
        });
        await queries.outbox.enqueue({
          channel,
          recipient: identifier.value,
          template: 'invitation-sign-up',
          locale: input.locale,
          params: { account: account.name, link: `${deps.issuer}/network/sign-up?invitation=${token}` },
        });
        await queries.audit.record({ kind: 'invitation.sent', accountId, actor, detail: { role: input.role, channel } });
        return ok({ sent: 'sign-up-link' as const, address: identifier.value, expiresAt });
      });
      if (outcome.ok) deps.wakeDelivery();
      return outcome;
    },

    /** The address an invitation link was sent to, while it is open; for the sign-up form to start from. */
    async invitationAddress(token: string): Promise<string | undefined> {
      return (await deps.queries.invitations.findOpenByTokenHash(linkHash(token)))?.address;
    },

    /**
     * A profile has just shown it holds `address` (a code sent there was
     * typed): every open invitation to that address makes it an active member,
     * in the caller's transaction. Answers how many accounts it joined.
     */
    async acceptInvitations(queries: Queries, profileId: string, address: string, actor: Actor): Promise<number> {
      let joined = 0;
      for (const invitation of await queries.invitations.openForAddressForUpdate(address)) {
        await queries.invitations.markAccepted(invitation.id, profileId);
        const existing = await queries.memberships.find(invitation.account_id, profileId);
        if (existing?.state === 'active') continue;
        if (existing) await queries.memberships.changeState(invitation.account_id, profileId, ['invited', 'dismissed'], 'active', invitation.role);
        else await queries.memberships.insert({ accountId: invitation.account_id, profileId, role: invitation.role, state: 'active' });
        await queries.audit.record({ kind: 'invitation.accepted', profileId, accountId: invitation.account_id, actor });
        joined += 1;
      }
      return joined;
    },

    async changeRole(
      accountId: string,
      profileId: string,
      role: MembershipRole,
      actor: Actor,
    ): Promise<Outcome<{ membership: Membership }, 'member-not-found' | 'last-admin'>> {
      return deps.queries.transaction(async (queries) => {
        const membership = await queries.memberships.find(accountId, profileId);
        if (!membership || membership.state === 'dismissed') return refuse('member-not-found');
        if (membership.role === role) return ok({ membership });
        if (role !== 'admin' && !(await keepsAnAdmin(queries, accountId, profileId))) return refuse('last-admin');
        await queries.memberships.setRole(accountId, profileId, role);
        await queries.audit.record({ kind: 'membership.role_changed', profileId, accountId, actor, detail: { from: membership.role, to: role } });
        return ok({ membership: (await queries.memberships.find(accountId, profileId))! });
      });
    },

    /**
     * Dismisses a member: the account's client stops accepting the profile at
     * once, every grant (with its tokens) the profile gave that client is
     * revoked, and once that has committed the account is told to end the
     * sessions it holds for the profile. Other accounts keep theirs.
     */
    async dismiss(accountId: string, profileId: string, actor: Actor): Promise<Outcome<object, 'member-not-found' | 'last-admin'>> {
      return deps.queries.transaction(async (queries) => {
        const membership = await queries.memberships.find(accountId, profileId);
        if (!membership || membership.state === 'dismissed') return refuse('member-not-found');
        if (membership.role === 'admin' && !(await keepsAnAdmin(queries, accountId, profileId))) return refuse('last-admin');
        await queries.memberships.changeState(accountId, profileId, ['invited', 'active'], 'dismissed');
        const client = await queries.clients.findByAccount(accountId);
        const logouts = client ? await queries.sessions.endClientSessions(profileId, client.client_id) : [];
        await queries.audit.record({ kind: 'membership.dismissed', profileId, accountId, actor });
        queries.afterCommit(() => deps.notifyLogout(logouts));
        return ok({});
      });
    },

    /** Brings a dismissed member back, active, with the role they had. */
    async restore(accountId: string, profileId: string, actor: Actor): Promise<Outcome<{ membership: Membership }, 'member-not-found' | 'member-not-dismissed'>> {
      return deps.queries.transaction(async (queries) => {
        const membership = await queries.memberships.find(accountId, profileId);
        if (!membership) return refuse('member-not-found');
        if (membership.state !== 'dismissed') return refuse('member-not-dismissed');
        await queries.memberships.changeState(accountId, profileId, ['dismissed'], 'active');
        await queries.audit.record({ kind: 'membership.restored', profileId, accountId, actor });
        return ok({ membership: (await queries.memberships.find(accountId, profileId))! });
      });
    },
  };
}

export type MembershipService = ReturnType<typeof createMembershipService>;
