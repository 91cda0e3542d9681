import type Router from '@koa/router';
import { formField, formCheckbox } from '../views/form-fields.js';
import type { Context } from 'koa';
import { chooseLocale, type MessageKey } from '../i18n/messages.js';
import { localeOf } from '../views/render.js';
import { personActor } from '../operations/request-actor.js';
import type { ContactKind } from './contacts.js';
import { PROFILE_PROBLEMS } from './profile-service.js';
import type { NetworkEnvironment } from './network-environment.js';
import { visitorOf } from './network-kit.js';

/** Connect a phone number and an email (product.md 6): ask for a code, then enter it. */
export function registerContacts(router: Router, env: NetworkEnvironment): void {
  const { context, kit } = env;
  const profiles = context.services.profiles;

  for (const kind of ['phone', 'email'] as const satisfies ContactKind[]) {
    const path = `/${kind}`;
    const render = async (
      ctx: Context,
      extra: { value?: string; propagate?: boolean; errorKey?: MessageKey; codeErrorKey?: MessageKey; seconds?: number } = {},
      status = 200,
    ) => {
      const { profile } = visitorOf(ctx);
      kit.render(
        ctx,
        'contact',
        {
          kind,
          current: kind === 'phone' ? profile.phone : profile.email,
          verified: kind === 'phone' ? profile.phone_verified : profile.email_verified,
          pending: await profiles.pendingContact(profile.id, kind),
          value: extra.value ?? '',
          propagate: extra.propagate ?? true,
          ...extra,
        },
        status,
      );
    };

    router.get(path, (ctx) => render(ctx));

    router.post(path, kit.forms, kit.recentSignIn({ returnTo: `/network${path}` }), async (ctx) => {
      if (!kit.guard(ctx)) return;
      const value = formField(ctx, 'value', 320);
      const propagate = formCheckbox(ctx, 'propagate');
      const { profile } = visitorOf(ctx);
      const result = await profiles.requestContactCode(profile, kind, { value, propagate, locale: chooseLocale(profile.locale, () => localeOf(ctx)) });
      if (!result.ok) {
        if (result.retryAfterSeconds) ctx.set('Retry-After', String(result.retryAfterSeconds));
        const errorKey = result.fields?.value ?? PROFILE_PROBLEMS[result.problem].messageKey;
        return render(ctx, { value, propagate, errorKey, seconds: result.retryAfterSeconds }, PROFILE_PROBLEMS[result.problem].status);
      }
      ctx.status = 303;
      ctx.redirect(`/network${path}`);
    });

    router.post(`${path}/confirm`, kit.forms, kit.recentSignIn({ returnTo: `/network${path}` }), async (ctx) => {
      if (!kit.guard(ctx)) return;
      const { profile } = visitorOf(ctx);
      const result = await profiles.confirmContact(profile.id, kind, formField(ctx, 'code', 32), personActor(ctx, profile.id));
      if (!result.ok) return render(ctx, { codeErrorKey: PROFILE_PROBLEMS[result.problem].messageKey }, 400);
      kit.done(ctx, `/network${path}`, `done.${kind}_connected` as MessageKey);
    });
  }
}
