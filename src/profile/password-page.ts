import type Router from '@koa/router';
import { formField } from '../views/form-fields.js';
import type { Context } from 'koa';
import type { MessageKey } from '../i18n/messages.js';
import { personActor } from '../operations/request-actor.js';
import type { NetworkEnvironment } from './network-environment.js';
import { visitorOf } from './network-kit.js';

/** Change password (product.md 7). */
export function registerPasswordPage(router: Router, env: NetworkEnvironment): void {
  const { context, kit } = env;
  const render = (ctx: Context, errors: Partial<Record<string, MessageKey>> = {}, status = 200) =>
    kit.render(ctx, 'password', { hasPassword: Boolean(visitorOf(ctx).profile.password_hash), errors }, status);

  router.get('/password', kit.recentSignIn(), (ctx) => render(ctx));

  router.post('/password', kit.forms, kit.recentSignIn(), async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile, sessionId } = visitorOf(ctx);
    const result = await context.services.profiles.changePassword(
      { profile, current: formField(ctx, 'current_password'), password: formField(ctx, 'new_password'), keepSessionId: sessionId },
      personActor(ctx, profile.id),
    );
    if (!result.ok) return render(ctx, result.fields, result.problem === 'current-password-throttled' ? 429 : 400);
    kit.done(ctx, '/network/password', profile.password_hash ? 'done.password_changed' : 'done.password_set');
  });
}
