import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import type { Profile } from '../db/profiles.js';
import type { Csrf } from '../security/csrf.js';
import { formField } from '../views/form-fields.js';
import type { Views } from '../views/render.js';
import type { PendingRecovery } from '../profile/recover-access.js';
import type { DecoyCode } from './decoy-code.js';
import type { SignInProgress } from './sign-in-steps.js';

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/** NetID's own progress through a sign-in, kept on the interaction between steps. */
export type PendingSignIn = SignInProgress | DecoyConfirmation;

/**
 * A sign-up with an email that already belongs to a profile: nothing was
 * created and no code exists, but the confirmation step behaves as if one had
 * been sent, so the answer does not tell who is registered.
 */
export interface DecoyConfirmation extends DecoyCode {
  decoy: true;
  /** The normalised email, shown as the real step shows the new profile's. */
  email: string;
}

export const isDecoy = (pending: PendingSignIn): pending is DecoyConfirmation => 'decoy' in pending && pending.decoy === true;


export const displayName = (profile: Profile | undefined): string =>
  profile ? [profile.first_name, profile.last_name].filter(Boolean).join(' ') || profile.email || profile.phone || '' : '';


/** Shared steps of every interaction route: load, guard, render, finish. */
export function createInteractionKit(provider: Provider, views: Views, csrf: Csrf) {
  async function saveResult(interaction: Interaction, patch: Record<string, unknown>): Promise<void> {
    interaction.result = { ...interaction.result, ...patch };
    const remaining = (interaction.exp ?? 0) - Math.floor(Date.now() / 1000);
    await interaction.save(Math.max(remaining, 1));
  }

  return {
    /** Loads the interaction, or renders "this page expired" when its cookie or record is gone. */
    async load(ctx: Context): Promise<Interaction | undefined> {
      try {
        const found = await provider.interactionDetails(ctx.req, ctx.res);
        if (found.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction mismatch');
        return found;
      } catch (error) {
        if (error instanceof errors.SessionNotFound) {
          views.render(ctx, 'error', { messageKey: 'error.expired' }, 400);
          return undefined;
        }
        throw error;
      }
    },

    /** Rejects a form without a valid CSRF token with a page, before anything changes. */
    guard(ctx: Context): boolean {
      if (csrf.verify(ctx, formField(ctx, 'csrf'))) return true;
      views.render(ctx, 'error', { messageKey: 'error.csrf' }, 403);
      return false;
    },

    csrfToken: (ctx: Context) => csrf.token(ctx),

    async clientName(interaction: Interaction): Promise<string | undefined> {
      const client = await provider.Client.find(String(interaction.params.client_id));
      return client?.clientName ?? client?.clientId;
    },

    pending(interaction: Interaction): PendingSignIn | undefined {
      return (interaction.result as { netid?: PendingSignIn } | undefined)?.netid;
    },

    /** Remembers a step on the interaction itself, so any instance can serve the next request. */
    async remember(interaction: Interaction, pending: PendingSignIn | undefined): Promise<void> {
      await saveResult(interaction, { netid: pending });
    },

    recovery(interaction: Interaction): PendingRecovery | undefined {
      const recovery = (interaction.result as { netidRecovery?: Partial<PendingRecovery> } | undefined)?.netidRecovery;
      // One begun before codes were bound to a requester has no code this version can check: it starts again.
      return recovery?.identifier && recovery.requester ? { identifier: recovery.identifier, requester: recovery.requester } : undefined;
    },

    async rememberRecovery(interaction: Interaction, recovery: PendingRecovery | undefined): Promise<void> {
      await saveResult(interaction, { netidRecovery: recovery });
    },

    /** The WebAuthn challenge this sign-in last handed to the browser. */
    passkeyChallenge(interaction: Interaction): string | undefined {
      const challenge = (interaction.result as { netidPasskey?: unknown } | undefined)?.netidPasskey;
      return typeof challenge === 'string' ? challenge : undefined;
    },

    /** Kept on the interaction, so any instance can check the answer; a new one replaces it, a used one is cleared. */
    async rememberPasskeyChallenge(interaction: Interaction, challenge: string | undefined): Promise<void> {
      await saveResult(interaction, { netidPasskey: challenge });
    },

    async finish(ctx: Context, result: InteractionResults, merge = false): Promise<void> {
      await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
      // interactionFinished answered with a redirect on the raw response; keep Koa from writing again.
      ctx.respond = false;
    },
  };
}

export type InteractionKit = ReturnType<typeof createInteractionKit>;
