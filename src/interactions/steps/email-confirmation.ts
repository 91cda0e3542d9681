import type Router from '@koa/router';
import type { Context } from 'koa';
import { chooseLocale, type MessageKey } from '../../i18n/messages.js';
import { personActor } from '../../operations/request-actor.js';
import { isCodeShaped } from '../../profile/confirm-email.js';
import { CODE_REFUSAL_MESSAGES } from '../../profile/one-time-codes.js';
import { PROFILE_PROBLEMS } from '../../profile/profile-service.js';
import { formField } from '../../views/form-fields.js';
import { localeOf } from '../../views/render.js';
import { refuseDecoyCode, resendDecoyCode } from '../decoy-code.js';
import type { InteractionEnvironment } from '../environment.js';
import { isDecoy, type Interaction, type PendingSignIn } from '../interaction-kit.js';
import { passStep, type SignInStep } from '../sign-in-steps.js';

export async function renderEmailConfirmation(
  ctx: Context,
  env: InteractionEnvironment,
  interaction: Interaction,
  pending: PendingSignIn,
  extra: { errorKey?: MessageKey; noticeKey?: MessageKey; seconds?: number } = {},
  status = 200,
): Promise<void> {
  const email = isDecoy(pending) ? pending.email : (await env.context.queries.profiles.findById(pending.profileId))?.email;
  env.context.views.render(ctx, 'confirm-email', { uid: interaction.uid, csrf: env.kit.csrfToken(ctx), email, ...extra }, status);
}

/**
 * The first sign-in confirms the profile's email (product.md 2): a one-time
 * code by email, due while the email is not confirmed. A sign-up with an
 * email that is taken meets the same page with a pretended code, so the
 * answer does not tell who is registered (decoy-code.ts).
 */
export const emailConfirmation: SignInStep = {
  name: 'email-confirmation',
  due: ({ profile }) => Boolean(profile.email && !profile.email_verified),
  async begin(ctx, env, { profile }) {
    // A code already on its way (sent at sign-up, or at a sign-in minutes ago) still works.
    if (await env.context.services.profiles.awaitsEmailConfirmation(profile.id)) return;
    await env.context.services.profiles.sendEmailConfirmation({ ...profile, email: profile.email! }, chooseLocale(profile.locale, () => localeOf(ctx)));
  },
  render: (ctx, env, interaction, progress) => renderEmailConfirmation(ctx, env, interaction, progress),
};

/** The code form and "send a new code". */
export function registerEmailConfirmation(router: Router, env: InteractionEnvironment): void {
  const { context, kit } = env;

  router.post('/:uid/confirm-email', env.forms, async (ctx) => {
    const interaction = await kit.load(ctx);
    if (!interaction || !kit.guard(ctx)) return;
    const pending = kit.pending(interaction);
    if (!pending || (!isDecoy(pending) && pending.current !== 'email-confirmation')) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    const code = formField(ctx, 'code', 32).trim();
    if (!isCodeShaped(code)) {
      return renderEmailConfirmation(ctx, env, interaction, pending, { errorKey: 'code.format' }, 400);
    }
    if (isDecoy(pending)) {
      const refused = refuseDecoyCode(pending);
      if (refused.decoy !== pending) await kit.remember(interaction, refused.decoy);
      return renderEmailConfirmation(ctx, env, interaction, refused.decoy, { errorKey: CODE_REFUSAL_MESSAGES[refused.reason] }, 400);
    }
    const confirmed = await context.services.profiles.confirmEmail(pending.profileId, code, personActor(ctx, pending.profileId));
    if (!confirmed.ok) {
      if (confirmed.problem === 'profile-not-found') return kit.finish(ctx, { error: 'access_denied', error_description: 'the profile no longer exists' });
      return renderEmailConfirmation(ctx, env, interaction, pending, { errorKey: PROFILE_PROBLEMS[confirmed.problem].messageKey }, 400);
    }
    return passStep(ctx, env, interaction, confirmed.profile, pending);
  });

  router.post('/:uid/confirm-email/resend', env.forms, async (ctx) => {
    const interaction = await kit.load(ctx);
    if (!interaction || !kit.guard(ctx)) return;
    const renderWait = (pending: PendingSignIn, seconds: number) => {
      ctx.set('Retry-After', String(seconds));
      return renderEmailConfirmation(ctx, env, interaction, pending, { errorKey: 'code.wait', seconds }, 429);
    };
    const pending = kit.pending(interaction);
    if (pending && isDecoy(pending)) {
      const sent = resendDecoyCode(pending);
      if (sent.issued) await kit.remember(interaction, sent.decoy);
      return sent.issued ? renderEmailConfirmation(ctx, env, interaction, sent.decoy, { noticeKey: 'code.resent' }) : renderWait(pending, sent.retryAfterSeconds);
    }
    const profile = pending ? await context.queries.profiles.findById(pending.profileId) : undefined;
    if (!pending || !profile?.email) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    const sent = await context.services.profiles.sendEmailConfirmation({ ...profile, email: profile.email }, chooseLocale(profile.locale, () => localeOf(ctx)));
    return sent.issued ? renderEmailConfirmation(ctx, env, interaction, pending, { noticeKey: 'code.resent' }) : renderWait(pending, sent.retryAfterSeconds);
  });
}
