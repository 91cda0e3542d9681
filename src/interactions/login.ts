import type Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionEnvironment } from './environment.js';
import { firstFactor, proceed } from './sign-in-steps.js';
import { type Interaction } from './interaction-kit.js';
import { formField } from '../views/form-fields.js';
import { personActor } from '../operations/request-actor.js';
import { PROFILE_PROBLEMS } from '../profile/profile-service.js';
import { NETWORK_CLIENT_ID } from '../profile/network-session.js';

export async function renderLogin(
  ctx: Context,
  env: InteractionEnvironment,
  interaction: Interaction,
  extra: Record<string, unknown> = {},
  status = 200,
): Promise<void> {
  env.context.views.render(
    ctx,
    'login',
    {
      uid: interaction.uid,
      csrf: env.kit.csrfToken(ctx),
      clientName: await env.kit.clientName(interaction),
      identifier: typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint : '',
      providers: env.context.services.federation.providers(),
      // The network pages ask for a fresh sign-in before a change that needs one (src/profile/recent-sign-in.ts).
      reauthenticate: Boolean(interaction.session?.accountId) && interaction.params.client_id === NETWORK_CLIENT_ID && String(interaction.params.prompt ?? '').split(' ').includes('login'),
      ...extra,
    },
    status,
  );
}

/** The password form, and leaving the sign-in without signing in. */
export function registerLogin(router: Router, env: InteractionEnvironment): void {
  const { context, kit } = env;

  router.post('/:uid/login', env.forms, async (ctx) => {
    const interaction = await kit.load(ctx);
    if (!interaction || !kit.guard(ctx)) return;
    if (interaction.prompt.name !== 'login' || kit.pending(interaction)) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    const identifier = formField(ctx, 'identifier', 320);
    const password = formField(ctx, 'password');
    if (!password) {
      return renderLogin(ctx, env, interaction, { identifier, errorKey: 'login.password_missing', invalid: 'password' }, 400);
    }
    const result = await context.services.profiles.signIn({ identifier, password, clientId: String(interaction.params.client_id) }, personActor(ctx));
    if (result.ok) return proceed(ctx, env, interaction, result.profile, firstFactor(result.profile, ['pwd']), 'page');
    const { status, messageKey } = PROFILE_PROBLEMS[result.problem];
    if (result.retryAfterSeconds) ctx.set('Retry-After', String(result.retryAfterSeconds));
    const invalid = result.problem === 'identifier-invalid' ? 'identifier' : result.problem === 'wrong-credentials' ? 'password' : undefined;
    return renderLogin(ctx, env, interaction, { identifier, errorKey: messageKey, invalid, seconds: result.retryAfterSeconds }, status);
  });

  router.post('/:uid/abort', env.forms, async (ctx) => {
    const interaction = await kit.load(ctx);
    if (!interaction || !kit.guard(ctx)) return;
    const refused = interaction.prompt.name === 'membership';
    return kit.finish(ctx, {
      error: 'access_denied',
      error_description: refused ? 'the End-User is not an active member of this account' : 'the End-User cancelled the sign-in',
    });
  });
}
