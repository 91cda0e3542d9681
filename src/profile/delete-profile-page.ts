import type Router from '@koa/router';
import { formField, formCheckbox } from '../views/form-fields.js';
import type { Context } from 'koa';
import type { MessageKey } from '../i18n/messages.js';
import { personActor } from '../operations/request-actor.js';
import { PROFILE_PROBLEMS } from './profile-service.js';
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
      { accounts: await context.services.profiles.connectedAccounts(profile.id), hasPassword: Boolean(profile.password_hash), errorKey },
      status,
    );
  };

  router.get('/delete', kit.recentSignIn(), (ctx) => render(ctx));

  router.post('/delete', kit.forms, kit.recentSignIn(), async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile } = visitorOf(ctx);
    const result = await context.services.profiles.delete(
      { profile, password: formField(ctx, 'password'), confirmed: formCheckbox(ctx, 'confirm') },
      personActor(ctx, profile.id),
    );
    if (!result.ok) {
      const { status, messageKey } = PROFILE_PROBLEMS[result.problem];
      return render(ctx, messageKey, status);
    }
    context.views.render(ctx, 'network/deleted');
  });
}
