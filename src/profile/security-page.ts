import type Router from '@koa/router';
import type { Context } from 'koa';
import type { MessageKey } from '../i18n/messages.js';
import { personActor } from '../operations/request-actor.js';
import { localeOf } from '../views/render.js';
import type { NetworkEnvironment } from './network-environment.js';
import { visitorOf } from './network-kit.js';
import { RECENT_SIGN_IN_SECONDS } from './recent-sign-in.js';

/** Dates as the page's language writes them, in UTC like the emails. */
export function dateFormatter(ctx: Context): (date: Date | string | null | undefined) => string {
  const format = new Intl.DateTimeFormat(localeOf(ctx), { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  return (date) => (date ? `${format.format(new Date(date))} UTC` : '');
}

/**
 * The Security page: the authenticator app, passkeys and recovery codes
 * (their own pages change them), and every session the profile is signed in
 * with, any of which the person can end.
 */
export async function renderSecurity(ctx: Context, env: NetworkEnvironment, errorKey?: MessageKey, status = 200): Promise<void> {
  const { factors, sessions } = env.context.services;
  const { profile, sessionId } = visitorOf(ctx);
  const [enrolled, passkeys, listed] = await Promise.all([factors.enrolled(profile.id), factors.listPasskeys(profile.id), sessions.list(profile.id, sessionId)]);
  env.kit.render(
    ctx,
    'security',
    { enrolled, passkeys, sessions: listed, date: dateFormatter(ctx), minutes: RECENT_SIGN_IN_SECONDS / 60, errorKey },
    status,
  );
}

export function registerSecurityPage(router: Router, env: NetworkEnvironment): void {
  const { context, kit } = env;
  const { sessions } = context.services;

  router.get('/security', (ctx) => renderSecurity(ctx, env));

  router.post('/security/sessions/end-others', kit.forms, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile, sessionId } = visitorOf(ctx);
    await sessions.endOthers(profile.id, sessionId, personActor(ctx, profile.id));
    kit.done(ctx, '/network/security', 'done.sessions_ended');
  });

  router.post('/security/sessions/:uid/end', kit.forms, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile, sessionUid } = visitorOf(ctx);
    const uid = String(ctx.params.uid).slice(0, 64);
    // This browser's own session ends by signing out, which also asks where to go next.
    if (uid === sessionUid) {
      ctx.status = 303;
      ctx.redirect('/session/end?client_id=netid-network');
      return;
    }
    const ended = await sessions.end(profile.id, uid, personActor(ctx, profile.id));
    if (!ended.ok) return context.views.render(ctx, 'error', { messageKey: 'error.not_found' }, 404);
    kit.done(ctx, '/network/security', 'done.session_ended');
  });
}
