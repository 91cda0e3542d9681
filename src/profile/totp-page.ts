import type Router from '@koa/router';
import type { Context } from 'koa';
import { FACTOR_PROBLEMS } from '../factors/factor-service.js';
import type { MessageKey } from '../i18n/messages.js';
import { personActor } from '../operations/request-actor.js';
import { formField } from '../views/form-fields.js';
import type { NetworkEnvironment } from './network-environment.js';
import { visitorOf } from './network-kit.js';
import { renderSecurity } from './security-page.js';

/**
 * Setting up an authenticator app: a new secret shown as a QR code and as
 * text, confirmed by a first code; recovery codes come with the first second
 * factor, shown once. Turning it off. Each needs a recent sign-in.
 */
export function registerTotpPage(router: Router, env: NetworkEnvironment): void {
  const { context, kit } = env;
  const { factors } = context.services;
  const recent = kit.recentSignIn({ returnTo: '/network/security' });

  const render = async (ctx: Context, errorKey?: MessageKey, seconds?: number, status = 200) => {
    const setup = await factors.pendingTotp(visitorOf(ctx).profile);
    if (!setup) {
      ctx.status = 303;
      ctx.redirect('/network/security');
      return;
    }
    kit.render(ctx, 'totp', { setup, errorKey, seconds }, status);
  };

  router.post('/security/totp/start', kit.forms, recent, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const begun = await factors.beginTotp(visitorOf(ctx).profile);
    if (!begun.ok) return renderSecurity(ctx, env, FACTOR_PROBLEMS[begun.problem].messageKey, FACTOR_PROBLEMS[begun.problem].status);
    ctx.status = 303;
    ctx.redirect('/network/security/totp');
  });

  router.get('/security/totp', (ctx) => render(ctx));

  router.post('/security/totp', kit.forms, recent, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile } = visitorOf(ctx);
    const actor = personActor(ctx, profile.id);
    const confirmed = await factors.confirmTotp(profile.id, formField(ctx, 'code', 32), actor);
    if (!confirmed.ok) {
      if (confirmed.retryAfterSeconds) ctx.set('Retry-After', String(confirmed.retryAfterSeconds));
      const { status, messageKey } = FACTOR_PROBLEMS[confirmed.problem];
      return render(ctx, messageKey, confirmed.retryAfterSeconds, status);
    }
    // The first second factor comes with its stand-ins, so losing the phone does not lock the person out.
    if ((await factors.enrolled(profile.id)).recoveryCodes === 0) {
      const { codes } = await factors.generateRecoveryCodes(profile.id, actor);
      return kit.render(ctx, 'recovery-codes', { codes, done: 'done.totp_added' });
    }
    kit.done(ctx, '/network/security', 'done.totp_added');
  });

  router.post('/security/totp/remove', kit.forms, recent, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile } = visitorOf(ctx);
    const removed = await factors.removeTotp(profile.id, personActor(ctx, profile.id));
    if (!removed.ok) return renderSecurity(ctx, env, FACTOR_PROBLEMS[removed.problem].messageKey, FACTOR_PROBLEMS[removed.problem].status);
    kit.done(ctx, '/network/security', 'done.totp_removed');
  });

  router.post('/security/recovery-codes', kit.forms, recent, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile } = visitorOf(ctx);
    const { codes } = await factors.generateRecoveryCodes(profile.id, personActor(ctx, profile.id));
    kit.render(ctx, 'recovery-codes', { codes });
  });
}
