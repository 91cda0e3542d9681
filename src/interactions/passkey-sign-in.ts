import type Router from '@koa/router';
import type { Context } from 'koa';
import { FACTOR_PROBLEMS } from '../factors/factor-service.js';
import { personActor } from '../operations/request-actor.js';
import { formField } from '../views/form-fields.js';
import type { InteractionEnvironment } from './environment.js';
import type { Interaction } from './interaction-kit.js';
import { renderLogin } from './login.js';
import { firstFactor, proceed } from './sign-in-steps.js';

/**
 * Signing in with a passkey instead of a password: the sign-in form asks the
 * browser for any of NetID's discoverable passkeys (in the identifier
 * field's autofill, or with its button), and the one it signs with says whose
 * profile it is. The authenticator verifies the person itself, so this is a
 * first factor that already proves two.
 */
export function registerPasskeySignIn(router: Router, env: InteractionEnvironment): void {
  const { context, kit } = env;

  /** Only from the sign-in form, before anything else was proven. */
  async function atLogin(ctx: Context, form: boolean): Promise<Interaction | undefined> {
    const interaction = await kit.load(ctx);
    if (!interaction || (form && !kit.guard(ctx))) return undefined;
    if (interaction.prompt.name !== 'login' || kit.pending(interaction)) {
      if (form) ctx.redirect(`/interaction/${interaction.uid}`);
      else ctx.status = 409;
      return undefined;
    }
    return interaction;
  }

  router.get('/:uid/passkey/options', async (ctx) => {
    const interaction = await atLogin(ctx, false);
    if (!interaction) return;
    const { options, challenge } = await context.services.factors.passkeyAuthenticationOptions();
    await kit.rememberPasskeyChallenge(interaction, challenge);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = options;
  });

  router.post('/:uid/passkey', env.forms, async (ctx) => {
    const interaction = await atLogin(ctx, true);
    if (!interaction) return;
    const challenge = kit.passkeyChallenge(interaction) ?? '';
    await kit.rememberPasskeyChallenge(interaction, undefined);
    const checked = await context.services.factors.authenticatePasskey(
      { response: formField(ctx, 'credential', 64 * 1024), challenge },
      personActor(ctx, undefined, String(interaction.params.client_id)),
    );
    if (!checked.ok) return renderLogin(ctx, env, interaction, { errorKey: FACTOR_PROBLEMS[checked.problem].messageKey }, 400);
    return proceed(ctx, env, interaction, checked.profile, firstFactor(checked.profile, checked.amr), 'page');
  });
}
