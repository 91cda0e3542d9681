import type Router from '@koa/router';
import type { Context } from 'koa';
import { chooseLocale } from '../i18n/messages.js';
import { personActor } from '../operations/request-actor.js';
import { normaliseEmail } from '../profile/identifier.js';
import { invitationOf } from '../profile/invitation-cookie.js';
import type { SignUpErrors } from '../profile/sign-up.js';
import { createAttemptCounter } from '../security/rate-limits.js';
import { formField } from '../views/form-fields.js';
import { localeOf } from '../views/render.js';
import { startDecoy } from './decoy-code.js';
import type { InteractionEnvironment } from './environment.js';
import { type Interaction } from './interaction-kit.js';
import { firstFactor, proceed } from './sign-in-steps.js';

export const SIGN_UPS_PER_ADDRESS_PER_HOUR = 20;
/** The counter of sign-ups per client address, shared with sign-ups through a provider (federation.ts). */
export const SIGN_UP_COUNTER = 'signup-address';

/** "Create for free" inside a sign-in, or for a `prompt=create` request. */
export function registerSignUp(router: Router, env: InteractionEnvironment) {
  const { context, kit } = env;
  const attempts = createAttemptCounter(context.db, SIGN_UP_COUNTER, 60 * 60);

  /** The address the person was invited at, when they came through an invitation's link that is still open. */
  const invitedAddress = async (ctx: Context) => {
    const token = invitationOf(ctx);
    return token ? context.services.memberships.invitationAddress(token) : undefined;
  };

  async function renderSignUp(
    ctx: Context,
    interaction: Interaction,
    values: Record<string, string> = {},
    errors: SignUpErrors & { form?: string } = {},
    status = 200,
  ): Promise<void> {
    const invited = await invitedAddress(ctx);
    context.views.render(
      ctx,
      'sign-up',
      {
        uid: interaction.uid,
        csrf: kit.csrfToken(ctx),
        clientName: await kit.clientName(interaction),
        values: { ...(invited && !invited.startsWith('+') ? { email: invited } : {}), ...values },
        errors,
        providers: context.services.federation.providers(),
      },
      status,
    );
  }

  router.get('/:uid/signup', async (ctx) => {
    const interaction = await kit.load(ctx);
    if (!interaction) return;
    if (kit.pending(interaction)) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    return renderSignUp(ctx, interaction);
  });

  router.post('/:uid/signup', env.forms, async (ctx) => {
    const interaction = await kit.load(ctx);
    if (!interaction || !kit.guard(ctx)) return;
    if (kit.pending(interaction)) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    const values = {
      firstName: formField(ctx, 'first_name', 200),
      lastName: formField(ctx, 'last_name', 200),
      email: formField(ctx, 'email', 320),
    };
    const { attempts: made, resetAt } = await attempts.record(ctx.ip);
    if (made > SIGN_UPS_PER_ADDRESS_PER_HOUR) {
      context.metrics.rateLimitRefusals.inc({ limit: 'sign_up' });
      ctx.set('Retry-After', String(Math.ceil((resetAt - Date.now()) / 1000)));
      return renderSignUp(ctx, interaction, values, { form: 'signup.throttled' }, 429);
    }
    const locale = chooseLocale(undefined, () => localeOf(ctx));
    // Invited at this very address: the person joins the inviting account instead of getting one of their own.
    const invited = (await invitedAddress(ctx)) === normaliseEmail(values.email);
    const result = await context.services.profiles.signUp({ ...values, password: formField(ctx, 'password') }, { locale, actor: personActor(ctx), invited });
    if (!result.ok) return renderSignUp(ctx, interaction, values, result.fields as SignUpErrors, 400);
    if (result.outcome === 'created') return proceed(ctx, env, interaction, result.profile, firstFactor(result.profile, ['pwd'], true), 'redirect');
    // A taken email goes on to a confirmation step like a new one: the answer must not tell who is registered.
    await kit.remember(interaction, startDecoy(result.email));
    ctx.redirect(`/interaction/${interaction.uid}`);
  });

  return { render: (ctx: Context, _env: InteractionEnvironment, interaction: Interaction) => renderSignUp(ctx, interaction) };
}
