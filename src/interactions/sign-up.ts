import type Router from '@koa/router';
import type { Context } from 'koa';
import { chooseLocale } from '../i18n/messages.js';
import { createExistingProfileNotices } from '../profile/existing-profile-notice.js';
import { signUp, type SignUpErrors } from '../profile/sign-up.js';
import { createAttemptCounter } from '../security/rate-limits.js';
import { localeOf } from '../views/render.js';
import { startDecoy } from './decoy-code.js';
import type { InteractionEnvironment } from './environment.js';
import { type Interaction } from './interaction-kit.js';
import { formField } from '../views/form-fields.js';

const SIGN_UPS_PER_ADDRESS_PER_HOUR = 20;

async function renderSignUp(
  ctx: Context,
  env: InteractionEnvironment,
  interaction: Interaction,
  values: Record<string, string> = {},
  errors: SignUpErrors & { form?: string } = {},
  status = 200,
): Promise<void> {
  env.context.views.render(
    ctx,
    'sign-up',
    { uid: interaction.uid, csrf: env.kit.csrfToken(ctx), clientName: await env.kit.clientName(interaction), values, errors },
    status,
  );
}

/** "Create for free" inside a sign-in, or for a `prompt=create` request. */
export function registerSignUp(router: Router, env: InteractionEnvironment): { render: typeof renderSignUp } {
  const { context, kit } = env;
  const attempts = createAttemptCounter(context.db, 'signup-address', 60 * 60);
  const notices = createExistingProfileNotices(context.db);

  router.get('/:uid/signup', async (ctx) => {
    const interaction = await kit.load(ctx);
    if (!interaction) return;
    if (kit.pending(interaction)) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    return renderSignUp(ctx, env, interaction);
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
      return renderSignUp(ctx, env, interaction, values, { form: 'signup.throttled' }, 429);
    }
    const locale = chooseLocale(undefined, () => localeOf(ctx));
    const result = await signUp(
      { accounts: context.accountDependencies, codes: context.codeDelivery, notices },
      { ...values, password: formField(ctx, 'password') },
      { locale, ip: ctx.ip },
    );
    if (result.outcome === 'invalid') return renderSignUp(ctx, env, interaction, values, result.errors, 400);
    // A taken email goes on to a confirmation step like a new one: the answer must not tell who is registered.
    await kit.remember(
      interaction,
      result.outcome === 'created' ? { profileId: result.profile.id, amr: ['pwd'], created: true } : startDecoy(result.email),
    );
    ctx.redirect(`/interaction/${interaction.uid}`);
  });

  return { render: renderSignUp };
}
