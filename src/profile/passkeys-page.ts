import type Router from '@koa/router';
import type { Context } from 'koa';
import { FACTOR_PROBLEMS } from '../factors/factor-service.js';
import { personActor } from '../operations/request-actor.js';
import { formField } from '../views/form-fields.js';
import type { NetworkEnvironment } from './network-environment.js';
import { visitorOf } from './network-kit.js';
import { freshSignInUrl, isRecentSignIn } from './recent-sign-in.js';
import { renderSecurity } from './security-page.js';

const CHALLENGE_COOKIE = 'netid.passkey';
const CHALLENGE_PATH = '/network/security/passkeys';

/**
 * Passkeys and security keys: several, named by the person, renamed and
 * removed. The browser creates one for a challenge handed out here (kept in
 * a signed cookie of this page's path for five minutes); each change needs a
 * recent sign-in.
 */
export function registerPasskeysPage(router: Router, env: NetworkEnvironment): void {
  const { context, kit } = env;
  const { factors } = context.services;
  const recent = kit.recentSignIn({ returnTo: '/network/security' });

  // Asked for by the page's script, so a sign-in that is not recent is told to it as JSON, before any passkey is made.
  router.get('/security/passkeys/options', async (ctx: Context) => {
    const visitor = visitorOf(ctx);
    ctx.set('Cache-Control', 'no-store');
    if (!(await isRecentSignIn(visitor, factors))) {
      ctx.status = 401;
      ctx.body = { sign_in: freshSignInUrl('/network/security') };
      return;
    }
    const { options, challenge } = await factors.passkeyRegistrationOptions(visitor.profile);
    ctx.cookies.set(CHALLENGE_COOKIE, challenge, { signed: true, httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: CHALLENGE_PATH, maxAge: 5 * 60 * 1000, overwrite: true });
    ctx.body = options;
  });

  router.post('/security/passkeys', kit.forms, recent, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile } = visitorOf(ctx);
    const challenge = ctx.cookies.get(CHALLENGE_COOKIE, { signed: true }) ?? '';
    ctx.cookies.set(CHALLENGE_COOKIE, null, { path: CHALLENGE_PATH });
    const registered = await factors.registerPasskey(
      profile,
      { response: formField(ctx, 'credential', 64 * 1024), challenge, name: formField(ctx, 'name', 200) },
      personActor(ctx, profile.id),
    );
    if (!registered.ok) return renderSecurity(ctx, env, FACTOR_PROBLEMS[registered.problem].messageKey, FACTOR_PROBLEMS[registered.problem].status);
    kit.done(ctx, '/network/security', 'done.passkey_added');
  });

  router.post('/security/passkeys/:id/rename', kit.forms, recent, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile } = visitorOf(ctx);
    const renamed = await factors.renamePasskey(profile.id, String(ctx.params.id), formField(ctx, 'name', 200), personActor(ctx, profile.id));
    if (!renamed.ok) return renderSecurity(ctx, env, FACTOR_PROBLEMS[renamed.problem].messageKey, FACTOR_PROBLEMS[renamed.problem].status);
    kit.done(ctx, '/network/security', 'done.passkey_renamed');
  });

  router.post('/security/passkeys/:id/remove', kit.forms, recent, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile } = visitorOf(ctx);
    const removed = await factors.removePasskey(profile.id, String(ctx.params.id), personActor(ctx, profile.id));
    if (!removed.ok) return renderSecurity(ctx, env, FACTOR_PROBLEMS[removed.problem].messageKey, FACTOR_PROBLEMS[removed.problem].status);
    kit.done(ctx, '/network/security', 'done.passkey_removed');
  });
}
