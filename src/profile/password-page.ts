import type Router from '@koa/router';
import { formField } from '../views/form-fields.js';
import type { Context } from 'koa';
import { changePassword, type PasswordChangeErrors } from './change-password.js';
import type { NetworkEnvironment } from './network-environment.js';
import { visitorOf } from './network-kit.js';

/** Change password (product.md 7). */
export function registerPasswordPage(router: Router, env: NetworkEnvironment): void {
  const { context, kit } = env;
  const render = (ctx: Context, errors: PasswordChangeErrors = {}, status = 200) =>
    kit.render(ctx, 'password', { hasPassword: Boolean(visitorOf(ctx).profile.password_hash), errors }, status);

  router.get('/password', (ctx) => render(ctx));

  router.post('/password', kit.forms, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile, sessionId } = visitorOf(ctx);
    const result = await changePassword(
      { db: context.db, audit: context.queries.audit, checkCurrent: env.checkCurrent, provider: context.provider, logger: context.logger },
      { profile, current: formField(ctx, 'current_password'), password: formField(ctx, 'new_password'), keepSessionId: sessionId },
    );
    if (!result.ok) return render(ctx, result.errors, result.errors.current === 'password.current_throttled' ? 429 : 400);
    kit.done(ctx, '/network/password', profile.password_hash ? 'done.password_changed' : 'done.password_set');
  });
}
