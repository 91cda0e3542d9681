import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { AccountQueries } from '../db/accounts.js';
import { acrRequestOf, reaches, requestedLevel, stronger, type AcrValue } from './authentication-context.js';
import { accountIdOf } from './client-kind.js';

const { Check } = interactionPolicy;

/** What decides the level a sign-in must reach for a client: its account's setting. */
export type AccountDemand = (accountId: string) => Promise<AcrValue | undefined>;

/** Accounts that require two factors of everyone signing in to them (src/accounts/account-service.ts). */
export function accountDemandFrom(accounts: Pick<AccountQueries, 'findById'>): AccountDemand {
  return async (accountId) => ((await accounts.findById(accountId))?.require_second_factor ? 'urn:netid:acr:2fa' : undefined);
}

/** The level this authorization request needs: what the relying party asked for, and what its account demands. */
export async function requiredLevel(
  params: { acr_values?: unknown; claims?: unknown },
  accountId: string | undefined,
  demand: AccountDemand,
): Promise<AcrValue | undefined> {
  return stronger(requestedLevel(acrRequestOf(params)), accountId ? await demand(accountId) : undefined);
}

const memo = new WeakMap<object, Promise<AcrValue | undefined>>();

/**
 * A check of oidc-provider's `login` prompt, in place of its own
 * `essential_acr(s)`, which ask for an exact value where NetID's levels are
 * ordered (a passkey satisfies a request for two factors). A session that has
 * not reached the level the request needs is sent to the sign-in screen,
 * which asks only for what is missing (step-up, src/interactions/step-up.ts).
 * Right after a sign-in that still did not reach it, the relying party gets
 * `unmet_authentication_requirements` rather than a second round.
 */
export function authenticationLevelCheck(demand: AccountDemand) {
  const levelOf = (ctx: KoaContextWithOIDC) => {
    let level = memo.get(ctx);
    if (!level) {
      level = requiredLevel(ctx.oidc.params as Record<string, unknown>, accountIdOf(ctx.oidc.client), demand);
      memo.set(ctx, level);
    }
    return level;
  };
  return new Check(
    'acr_level',
    'the requested authentication level has not been reached',
    'login_required',
    async (ctx: KoaContextWithOIDC) => {
      const request = acrRequestOf(ctx.oidc.params as Record<string, unknown>);
      if (request?.essential && !requestedLevel(request)) {
        throw new errors.UnmetAuthenticationRequirements('none of the requested authentication context classes is offered');
      }
      const session = ctx.oidc.session;
      if (!session?.accountId) return Check.NO_NEED_TO_PROMPT;
      const level = await levelOf(ctx);
      if (!level || reaches(session.amr ?? [], level)) return Check.NO_NEED_TO_PROMPT;
      if (ctx.oidc.result?.login) throw new errors.UnmetAuthenticationRequirements('the End-User did not reach the requested authentication level');
      return Check.REQUEST_PROMPT;
    },
    async (ctx: KoaContextWithOIDC) => ({ acr_level: await levelOf(ctx) }),
  );
}
