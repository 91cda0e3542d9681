import type Router from '@koa/router';
import type { Context } from 'koa';
import { FEDERATION_PROBLEMS, type FederationProblem } from '../federation/federation-service.js';
import { callbackRequestOf } from '../federation/callback-request.js';
import { chooseLocale, type MessageKey } from '../i18n/messages.js';
import { personActor } from '../operations/request-actor.js';
import type { Refusal } from '../outcome.js';
import { invitationOf } from '../profile/invitation-cookie.js';
import { PROFILE_PROBLEMS } from '../profile/profile-service.js';
import { createAttemptCounter } from '../security/rate-limits.js';
import { localeOf } from '../views/render.js';
import { startDecoy } from './decoy-code.js';
import type { InteractionEnvironment } from './environment.js';
import type { Interaction } from './interaction-kit.js';
import { renderLogin } from './login.js';
import { firstFactor, proceed } from './sign-in-steps.js';
import { SIGN_UPS_PER_ADDRESS_PER_HOUR, SIGN_UP_COUNTER } from './sign-up.js';

/** The prompts a person may answer by signing in with a provider. */
const SIGN_IN_PROMPTS = new Set(['login', 'create']);

/**
 * "Continue with …" on the sign-in screen: the round trip to a provider, and
 * its answer, which signs in, signs up or is refused by the profile's rules
 * (src/profile/identities.ts). Whatever goes wrong, the person is back on the
 * sign-in screen with a sentence saying what to do.
 */
export function registerFederation(router: Router, env: InteractionEnvironment): void {
  const { context, kit } = env;
  const { federation, profiles } = context.services;
  // The same counter as "Create for free": a profile made through a provider is a sign-up too.
  const signUps = createAttemptCounter(context.db, SIGN_UP_COUNTER, 60 * 60);

  const refused = (ctx: Context, interaction: Interaction, messageKey: MessageKey, status: number, seconds?: number) => {
    if (seconds) ctx.set('Retry-After', String(seconds));
    return renderLogin(ctx, env, interaction, { errorKey: messageKey, seconds }, status);
  };
  const federationRefused = (ctx: Context, interaction: Interaction, refusal: Refusal<FederationProblem>) =>
    refused(ctx, interaction, FEDERATION_PROBLEMS[refusal.problem].messageKey, FEDERATION_PROBLEMS[refusal.problem].status, refusal.retryAfterSeconds);

  router.post('/:uid/federation/:provider', env.forms, async (ctx) => {
    const interaction = await kit.load(ctx);
    if (!interaction || !kit.guard(ctx)) return;
    if (!SIGN_IN_PROMPTS.has(interaction.prompt.name) || kit.pending(interaction)) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    const begun = await federation.begin(ctx.params.provider!, { interactionUid: interaction.uid }, personActor(ctx));
    if (!begun.ok) return federationRefused(ctx, interaction, begun);
    ctx.status = 303;
    ctx.redirect(begun.url);
  });

  const callback = async (ctx: Context) => {
    const interaction = await kit.load(ctx);
    if (!interaction) return;
    const provider = ctx.params.provider!;
    const actor = personActor(ctx);
    const finished = await federation.finish(provider, callbackRequestOf(ctx), { interactionUid: interaction.uid }, actor);
    if (!finished.ok) return federationRefused(ctx, interaction, finished);
    // Signed in meanwhile (another tab), or already past the first factor: the provider's answer is not needed.
    if (!SIGN_IN_PROMPTS.has(interaction.prompt.name) || kit.pending(interaction)) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    const { identity } = finished;
    const token = invitationOf(ctx);
    const invitedAt = token ? await context.services.memberships.invitationAddress(token) : undefined;
    const result = await profiles.signInWithIdentity(identity, {
      locale: chooseLocale(undefined, () => localeOf(ctx)),
      actor,
      invited: Boolean(identity.email) && invitedAt === identity.email,
      admitSignUp: async () => {
        const { attempts, resetAt } = await signUps.record(ctx.ip);
        if (attempts <= SIGN_UPS_PER_ADDRESS_PER_HOUR) return { admitted: true };
        context.metrics.rateLimitRefusals.inc({ limit: 'sign_up' });
        return { admitted: false, retryAfterSeconds: Math.ceil((resetAt - Date.now()) / 1000) };
      },
    });
    if (!result.ok) {
      if (result.problem === 'profile-blocked') return kit.finish(ctx, { error: 'access_denied', error_description: 'the profile is blocked' });
      const { messageKey, status } = PROFILE_PROBLEMS[result.problem];
      return refused(ctx, interaction, messageKey, status, result.retryAfterSeconds);
    }
    const amr = ['fed', identity.provider];
    switch (result.outcome) {
      case 'signed-in':
        return proceed(ctx, env, interaction, result.profile, firstFactor(result.profile, amr), 'redirect');
      case 'signed-up':
        return proceed(ctx, env, interaction, result.profile, firstFactor(result.profile, amr, true), 'redirect');
      case 'email-taken':
        // As "Create for free" with a taken email: a confirmation step that no code will pass.
        await kit.remember(interaction, startDecoy(result.email));
        ctx.redirect(`/interaction/${interaction.uid}`);
    }
  };
  router.get('/:uid/federation/:provider/callback', callback);
  router.post('/:uid/federation/:provider/callback', env.forms, callback);
}
