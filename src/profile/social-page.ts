import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Identity } from '../db/identities.js';
import { FEDERATION_PROBLEMS } from '../federation/federation-service.js';
import { callbackRequestOf } from '../federation/callback-request.js';
import type { MessageKey } from '../i18n/messages.js';
import { personActor } from '../operations/request-actor.js';
import { formField } from '../views/form-fields.js';
import type { NetworkEnvironment } from './network-environment.js';
import { visitorOf } from './network-kit.js';
import { PROFILE_PROBLEMS } from './profile-service.js';

const PAGE = '/network/social';

/**
 * Social media (product.md 8): the providers this installation offers, and
 * any the profile is still connected to; connect one (after a fresh sign-in),
 * disconnect one (never the last way to sign in).
 */
export function registerSocialPage(router: Router, env: NetworkEnvironment): void {
  const { context, kit } = env;
  const { federation, profiles } = context.services;

  async function render(ctx: Context, extra: { errorKey?: MessageKey | undefined; seconds?: number | undefined } = {}, status = 200): Promise<void> {
    const { profile } = visitorOf(ctx);
    const identities = await profiles.listIdentities(profile.id);
    const last = profiles.lastSignInMethod(profile, identities);
    const offered = federation.providers();
    const byProvider = new Map(identities.map((identity) => [identity.provider, identity]));
    const rows = [
      ...offered.map((provider) => ({ id: provider.id, displayName: provider.displayName, mark: provider.mark, offered: true, identity: byProvider.get(provider.id) })),
      // Connected through a provider the installation no longer offers: it can still be disconnected.
      ...identities
        .filter((identity) => !federation.find(identity.provider))
        .map((identity) => ({ id: identity.provider, displayName: identity.provider, mark: { letter: identity.provider.charAt(0).toUpperCase(), colour: '#4b5563' }, offered: false, identity })),
    ].map((row) => ({ ...row, account: row.identity ? accountOf(row.identity) : undefined, last: row.identity !== undefined && row.identity.id === last?.id }));
    kit.render(ctx, 'social', { rows, errorKey: extra.errorKey, seconds: extra.seconds, hasPassword: Boolean(profile.password_hash) }, status);
  }

  router.get('/social', (ctx) => render(ctx));

  // Connecting adds a way in and disconnecting removes one: both only just after a sign-in (src/profile/recent-sign-in.ts).
  router.post('/social/:provider/connect', kit.forms, kit.recentSignIn({ returnTo: `${PAGE}?done=done.signed_in_again` }), async (ctx) => {
    if (!kit.guard(ctx)) return;
    const visitor = visitorOf(ctx);
    const begun = await federation.begin(ctx.params.provider!, { profileId: visitor.profile.id, sessionId: visitor.sessionId }, personActor(ctx, visitor.profile.id));
    if (!begun.ok) {
      if (begun.retryAfterSeconds) ctx.set('Retry-After', String(begun.retryAfterSeconds));
      return render(ctx, { errorKey: FEDERATION_PROBLEMS[begun.problem].messageKey, seconds: begun.retryAfterSeconds }, FEDERATION_PROBLEMS[begun.problem].status);
    }
    ctx.status = 303;
    ctx.redirect(begun.url);
  });

  const callback = async (ctx: Context) => {
    const visitor = visitorOf(ctx);
    const actor = personActor(ctx, visitor.profile.id);
    const finished = await federation.finish(ctx.params.provider!, callbackRequestOf(ctx), { profileId: visitor.profile.id, sessionId: visitor.sessionId }, actor);
    if (!finished.ok) {
      if (finished.retryAfterSeconds) ctx.set('Retry-After', String(finished.retryAfterSeconds));
      return render(ctx, { errorKey: FEDERATION_PROBLEMS[finished.problem].messageKey, seconds: finished.retryAfterSeconds }, FEDERATION_PROBLEMS[finished.problem].status);
    }
    const connected = await profiles.connectIdentity(visitor.profile.id, finished.identity, actor);
    if (!connected.ok) return render(ctx, { errorKey: PROFILE_PROBLEMS[connected.problem].messageKey }, PROFILE_PROBLEMS[connected.problem].status);
    kit.done(ctx, PAGE, 'done.identity_connected');
  };
  router.get('/social/:provider/callback', callback);
  router.post('/social/:provider/callback', kit.forms, callback);

  router.post('/social/:provider/disconnect', kit.forms, kit.recentSignIn({ returnTo: PAGE }), async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile } = visitorOf(ctx);
    const result = await profiles.disconnectIdentity(profile.id, formField(ctx, 'identity', 64), personActor(ctx, profile.id));
    if (!result.ok) return render(ctx, { errorKey: PROFILE_PROBLEMS[result.problem].messageKey }, PROFILE_PROBLEMS[result.problem].status);
    kit.done(ctx, PAGE, 'done.identity_disconnected');
  });
}

/** How the page names the upstream account: the email the provider gave, else the person's name there. */
function accountOf(identity: Identity): string | undefined {
  return identity.email ?? ([identity.first_name, identity.last_name].filter(Boolean).join(' ') || undefined);
}
