import type Router from '@koa/router';
import { formField, formCheckbox } from '../views/form-fields.js';
import type { Context } from 'koa';
import type { MessageKey } from '../i18n/messages.js';
import { connectedAccounts, deleteProfile } from './delete-profile.js';
import type { NetworkEnvironment } from './network-environment.js';
import { visitorOf } from './network-kit.js';

/** Delete the profile (product.md 9), offered only once no account is connected. */
export function registerDeleteProfile(router: Router, env: NetworkEnvironment): void {
  const { context, kit } = env;
  const render = async (ctx: Context, errorKey?: MessageKey, status = 200) => {
    const { profile } = visitorOf(ctx);
    kit.render(
      ctx,
      'delete-profile',
      { accounts: await connectedAccounts(context.queries.memberships, profile.id), hasPassword: Boolean(profile.password_hash), errorKey },
      status,
    );
  };

  router.get('/delete', (ctx) => render(ctx));

  router.post('/delete', kit.forms, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const result = await deleteProfile(
      {
        db: context.db,
        memberships: context.queries.memberships,
        audit: context.queries.audit,
        checkCurrent: env.checkCurrent,
        provider: context.provider,
        logger: context.logger,
      },
      { profile: visitorOf(ctx).profile, password: formField(ctx, 'password'), confirmed: formCheckbox(ctx, 'confirm') },
    );
    if (!result.ok) {
      const status = result.errorKey === 'password.current_throttled' ? 429 : result.errorKey === 'delete.accounts_remain' ? 409 : 400;
      return render(ctx, result.errorKey, status);
    }
    context.views.render(ctx, 'network/deleted');
  });
}
