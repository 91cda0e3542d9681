import type Router from '@koa/router';
import type { Context } from 'koa';
import type { MessageKey } from '../i18n/messages.js';
import { parseIdentifier } from '../profile/identifier.js';
import { personActor } from '../operations/request-actor.js';
import { PROFILE_PROBLEMS } from '../profile/profile-service.js';
import { newRequester, type PendingRecovery } from '../profile/recover-access.js';
import { PASSWORD_PROBLEM_MESSAGES } from '../profile/sign-up.js';
import { passwordProblem } from '../security/password-policy.js';
import { localeOf } from '../views/render.js';
import type { InteractionEnvironment } from './environment.js';
import type { Interaction } from './interaction-kit.js';
import { formField } from '../views/form-fields.js';
import { renderLogin } from './login.js';
import { createRecoveryLimits } from './recovery-limits.js';

interface CodeFormErrors {
  code?: MessageKey;
  password?: MessageKey;
}

function renderRequestForm(
  ctx: Context,
  env: InteractionEnvironment,
  interaction: Interaction,
  extra: { identifier?: string; errorKey?: MessageKey; invalid?: boolean; minutes?: number; seconds?: number } = {},
  status = 200,
): void {
  env.context.views.render(ctx, 'recover', { uid: interaction.uid, csrf: env.kit.csrfToken(ctx), ...extra }, status);
}

function renderCodeForm(
  ctx: Context,
  env: InteractionEnvironment,
  interaction: Interaction,
  recovery: PendingRecovery,
  extra: { code?: string; errors?: CodeFormErrors; noticeKey?: MessageKey; errorKey?: MessageKey; minutes?: number; seconds?: number } = {},
  status = 200,
): void {
  env.context.views.render(
    ctx,
    'recover-code',
    { uid: interaction.uid, csrf: env.kit.csrfToken(ctx), identifier: recovery.identifier, errors: {}, ...extra },
    status,
  );
}

/** "Forgot password": a code to an email or a confirmed phone, then a new password, then the sign-in form again. */
export function registerRecovery(router: Router, env: InteractionEnvironment): void {
  const { context, kit } = env;
  const limits = createRecoveryLimits(context.db);

  /** Recovery starts from the password form; any other step of a sign-in goes back to where it was. */
  async function load(ctx: Context, form: boolean): Promise<Interaction | undefined> {
    const interaction = await kit.load(ctx);
    if (!interaction || (form && !kit.guard(ctx))) return undefined;
    if (interaction.prompt.name !== 'login' || kit.pending(interaction)) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return undefined;
    }
    return interaction;
  }

  router.get('/:uid/recover', async (ctx) => {
    const interaction = await load(ctx, false);
    if (!interaction) return;
    const hint = typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint : '';
    renderRequestForm(ctx, env, interaction, { identifier: kit.recovery(interaction)?.identifier ?? hint });
  });

  router.post('/:uid/recover', env.forms, async (ctx) => {
    const interaction = await load(ctx, true);
    if (!interaction) return;
    const typed = formField(ctx, 'identifier', 320);
    const resend = formField(ctx, 'resend') === '1';
    const identifier = parseIdentifier(typed, context.config.defaultPhoneRegion);
    if (!identifier) {
      return renderRequestForm(ctx, env, interaction, { identifier: typed, errorKey: 'login.identifier_invalid', invalid: true }, 400);
    }
    const clientId = String(interaction.params.client_id);
    const earlier = kit.recovery(interaction);
    const limited = await limits.record(identifier.value, ctx.ip);
    if (limited > 0) {
      context.metrics.rateLimitRefusals.inc({ limit: 'recovery_request' });
      await context.queries.audit.record({ kind: 'recovery.throttled', clientId, actor: personActor(ctx) });
      ctx.set('Retry-After', String(limited));
      const throttled = { errorKey: 'recover.throttled' as const, minutes: Math.ceil(limited / 60) };
      return resend && earlier?.identifier === identifier.value
        ? renderCodeForm(ctx, env, interaction, earlier, throttled, 429)
        : renderRequestForm(ctx, env, interaction, { identifier: typed, ...throttled }, 429);
    }
    const recovery = { identifier: identifier.value, requester: earlier?.requester ?? newRequester() };
    const sent = await context.services.profiles.requestRecoveryCode({ ...recovery, identifier, browserLocale: localeOf(ctx), clientId }, personActor(ctx));
    if (!sent.issued) {
      // Said plainly: an identifier of nobody waits exactly as long, so the wait tells nothing.
      ctx.set('Retry-After', String(sent.retryAfterSeconds));
      const tooSoon = { errorKey: 'code.wait' as const, seconds: sent.retryAfterSeconds };
      // Whoever already holds a code for it stays where that code is typed.
      return earlier?.identifier === identifier.value
        ? renderCodeForm(ctx, env, interaction, earlier, tooSoon, 429)
        : renderRequestForm(ctx, env, interaction, { identifier: typed, ...tooSoon }, 429);
    }
    await kit.rememberRecovery(interaction, recovery);
    ctx.redirect(`/interaction/${interaction.uid}/recover/code${resend ? '?resent=1' : ''}`);
  });

  router.get('/:uid/recover/code', async (ctx) => {
    const interaction = await load(ctx, false);
    if (!interaction) return;
    const recovery = kit.recovery(interaction);
    if (!recovery) {
      ctx.redirect(`/interaction/${interaction.uid}/recover`);
      return;
    }
    renderCodeForm(ctx, env, interaction, recovery, { noticeKey: ctx.query.resent ? 'recover.resent' : 'recover.sent' });
  });

  router.post('/:uid/recover/code', env.forms, async (ctx) => {
    const interaction = await load(ctx, true);
    if (!interaction) return;
    const recovery = kit.recovery(interaction);
    if (!recovery) {
      ctx.redirect(`/interaction/${interaction.uid}/recover`);
      return;
    }
    const code = formField(ctx, 'code', 32).replace(/\s+/g, '');
    const password = formField(ctx, 'password');
    const errors: CodeFormErrors = {};
    if (!/^\d{6}$/.test(code)) errors.code = 'code.format';
    const problem = passwordProblem(password, [recovery.identifier]);
    if (problem) errors.password = PASSWORD_PROBLEM_MESSAGES[problem];
    // A weak password is refused before the code is tried, so it does not cost one of the code's tries.
    if (errors.code || errors.password) return renderCodeForm(ctx, env, interaction, recovery, { code, errors }, 400);

    const result = await context.services.profiles.resetPassword({ recovery, code, password, clientId: String(interaction.params.client_id) }, personActor(ctx));
    if (!result.ok) {
      const errors: CodeFormErrors = result.problem === 'form-invalid' ? { password: result.fields?.password } : { code: PROFILE_PROBLEMS[result.problem].messageKey };
      return renderCodeForm(ctx, env, interaction, recovery, { code, errors }, 400);
    }
    await kit.rememberRecovery(interaction, undefined);
    // Failed sign-ins before the recovery must not keep the person out now that the password is theirs again.
    await context.limits.recordSuccess(recovery.identifier, ctx.ip);
    return renderLogin(ctx, env, interaction, { identifier: recovery.identifier, noticeKey: 'recover.done' });
  });
}
