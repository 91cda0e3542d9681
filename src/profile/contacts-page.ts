import type Router from '@koa/router';
import { formField, formCheckbox } from '../views/form-fields.js';
import type { Context } from 'koa';
import { chooseLocale, type MessageKey } from '../i18n/messages.js';
import { localeOf } from '../views/render.js';
import { confirmContact, createContactRequests, pendingContact, type ContactDependencies, type ContactKind } from './contacts.js';
import type { NetworkEnvironment } from './network-environment.js';
import { visitorOf } from './network-kit.js';

/** Connect a phone number and an email (product.md 6): ask for a code, then enter it. */
export function registerContacts(router: Router, env: NetworkEnvironment): void {
  const { context, kit } = env;
  const deps: ContactDependencies = {
    db: context.db,
    memberships: context.queries.memberships,
    audit: context.queries.audit,
    codes: context.codeDelivery,
    defaultPhoneRegion: context.config.defaultPhoneRegion,
  };
  const requests = createContactRequests(deps);

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
          pending: await pendingContact(context.db, profile.id, kind),
          value: extra.value ?? '',
          propagate: extra.propagate ?? true,
          ...extra,
        },
        status,
      );
    };

    router.get(path, (ctx) => render(ctx));

    router.post(path, kit.forms, async (ctx) => {
      if (!kit.guard(ctx)) return;
      const value = formField(ctx, 'value', 320);
      const propagate = formCheckbox(ctx, 'propagate');
      const { profile } = visitorOf(ctx);
      const result = await requests.request(profile, kind, {
        value,
        propagate,
        locale: chooseLocale(profile.locale, () => localeOf(ctx)),
      });
      if (!result.ok) {
        if (result.retryAfterSeconds) ctx.set('Retry-After', String(result.retryAfterSeconds));
        return render(ctx, { value, propagate, errorKey: result.errorKey, seconds: result.retryAfterSeconds }, result.retryAfterSeconds ? 429 : 400);
      }
      ctx.status = 303;
      ctx.redirect(`/network${path}`);
    });

    router.post(`${path}/confirm`, kit.forms, async (ctx) => {
      if (!kit.guard(ctx)) return;
      const result = await confirmContact(deps, visitorOf(ctx).profile.id, kind, formField(ctx, 'code', 32));
      if (!result.ok) return render(ctx, { codeErrorKey: result.errorKey }, 400);
      kit.done(ctx, `/network${path}`, `done.${kind}_connected` as MessageKey);
    });
  }
}
