import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { MembershipService } from '../accounts/membership-service.js';
import { accountIdOf } from './client-kind.js';

const { Prompt, Check } = interactionPolicy;

/**
 * Signing in to an account's client needs an active membership; an invited one
 * becomes active at its first sign-in. Anyone else meets the `membership`
 * interaction (a page that explains) and the account receives `access_denied`,
 * also for `prompt=none` and for a network session that already exists (SSO).
 */
export function membershipPrompt(memberships: MembershipService) {
  return new Prompt(
    { name: 'membership', requestable: false },
    new Check(
      'membership_required',
      'the End-User is not an active member of this account',
      'access_denied',
      async (ctx: KoaContextWithOIDC) => {
        const accountId = accountIdOf(ctx.oidc.client);
        const profileId = ctx.oidc.session?.accountId;
        if (!accountId || !profileId) return Check.NO_NEED_TO_PROMPT;
        const membership = await memberships.find(accountId, profileId);
        if (membership?.state === 'active') return Check.NO_NEED_TO_PROMPT;
        if (membership?.state === 'invited') {
          const actor = { kind: 'profile' as const, profileId, clientId: ctx.oidc.client?.clientId, ip: ctx.ip, userAgent: ctx.get('user-agent') };
          if (await memberships.activateInvited(accountId, profileId, actor)) return Check.NO_NEED_TO_PROMPT;
          // Someone changed it meanwhile (accepted elsewhere, or dismissed): decide on what is stored now.
          const now = await memberships.find(accountId, profileId);
          return now?.state === 'active' ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
        }
        return Check.REQUEST_PROMPT;
      },
    ),
  );
}
