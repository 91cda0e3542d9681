import Router from '@koa/router';
import type { NetidContext } from '../context.js';
import { accountIdOf, skipsConsent } from '../oidc/client-kind.js';
import type { Csrf } from '../security/csrf.js';
import { formParser } from '../views/form-fields.js';
import { grantConsent, registerConsent, renderConsent } from './consent.js';
import { emailConfirmation, registerEmailConfirmation, renderEmailConfirmation } from './steps/email-confirmation.js';
import type { InteractionEnvironment } from './environment.js';
import { registerFederation } from './federation.js';
import { createInteractionKit, displayName, isDecoy } from './interaction-kit.js';
import { registerLogin, renderLogin } from './login.js';
import { registerRecovery } from './recovery.js';
import { registerSignUp } from './sign-up.js';
import { registerPasskeySignIn } from './passkey-sign-in.js';
import { registerSecondFactor, secondFactor } from './steps/second-factor.js';
import { beginStepUp, isStepUp } from './step-up.js';

/** The sign-in screen: oidc-provider hands over here whenever a person must act. */
export function createInteractionRouter(context: NetidContext, csrf: Csrf): Router {
  const { provider, views, queries } = context;
  const router = new Router({ prefix: '/interaction' });
  const env: InteractionEnvironment = {
    context,
    kit: createInteractionKit(provider, views, csrf),
    forms: formParser(),
    // What a sign-in passes after its first factor, in this order.
    steps: [emailConfirmation, secondFactor],
  };
  const signUp = registerSignUp(router, env);

  router.get('/:uid', async (ctx) => {
    const interaction = await env.kit.load(ctx);
    if (!interaction) return;
    const pending = env.kit.pending(interaction);
    if (pending && isDecoy(pending)) return renderEmailConfirmation(ctx, env, interaction, pending);
    const step = pending && env.steps.find((candidate) => candidate.name === pending.current);
    if (pending && step) return step.render(ctx, env, interaction, pending);

    const client = await provider.Client.find(String(interaction.params.client_id));
    switch (interaction.prompt.name) {
      case 'create':
        return signUp.render(ctx, env, interaction);
      case 'login':
        if (isStepUp(interaction) && (await beginStepUp(ctx, env, interaction))) return;
        return renderLogin(ctx, env, interaction);
      case 'membership': {
        const profile = await queries.profiles.findById(interaction.session!.accountId);
        const accountId = accountIdOf(client);
        const membership = accountId && profile ? await queries.memberships.find(accountId, profile.id) : undefined;
        await queries.audit.record({ kind: 'membership.refused', profileId: profile?.id, accountId, clientId: client?.clientId });
        return views.render(
          ctx,
          'refused',
          {
            uid: interaction.uid,
            csrf: env.kit.csrfToken(ctx),
            accountName: membership?.account_name ?? client?.clientName ?? client?.clientId,
            dismissed: membership?.state === 'dismissed',
            profileName: displayName(profile),
          },
          403,
        );
      }
      case 'consent':
        return client && skipsConsent(client) ? grantConsent(ctx, env, interaction) : renderConsent(ctx, env, interaction);
      default:
        return env.kit.finish(ctx, { error: 'access_denied', error_description: 'unsupported interaction' });
    }
  });

  registerLogin(router, env);
  registerPasskeySignIn(router, env);
  registerEmailConfirmation(router, env);
  registerSecondFactor(router, env);
  registerConsent(router, env);
  registerRecovery(router, env);
  registerFederation(router, env);
  return router;
}
