import type { Context, Middleware } from 'koa';
import { isMessageKey, type MessageKey } from '../i18n/messages.js';
import { formField, formParser } from '../views/form-fields.js';
import type { Csrf } from '../security/csrf.js';
import type { Views } from '../views/render.js';
import type { NetworkVisitor } from './network-session.js';
import type { FactorService } from '../factors/factor-service.js';
import { requireRecentSignIn } from './recent-sign-in.js';

export const visitorOf = (ctx: Context): NetworkVisitor => ctx.state.visitor as NetworkVisitor;

/** Shared steps of every network-profile page: render for the visitor, guard forms. */
export function createNetworkKit(views: Views, csrf: Csrf, factors: Pick<FactorService, 'enrolled'>) {
  return {
    /** A recent sign-in before what follows (src/profile/recent-sign-in.ts): `router.post(path, kit.forms, kit.recentSignIn({ returnTo }), …)`. */
    recentSignIn: (options: Parameters<typeof requireRecentSignIn>[1] = {}) => requireRecentSignIn(factors, options),

    /** Parses url-encoded forms (formParser). */
    forms: formParser(),

    render(ctx: Context, template: string, data: Record<string, unknown> = {}, status = 200): void {
      // Only known confirmations: the address must not be a way to put words on NetID's pages.
      const done = typeof ctx.query.done === 'string' && ctx.query.done.startsWith('done.') && isMessageKey(ctx.query.done) ? ctx.query.done : undefined;
      views.render(ctx, `network/${template}`, { done, ...data, profile: visitorOf(ctx).profile, csrf: csrf.token(ctx) }, status);
    },

    /** Rejects a form without a valid CSRF token with a page, before anything changes. */
    guard(ctx: Context, submitted: string = formField(ctx, 'csrf')): boolean {
      if (csrf.verify(ctx, submitted)) return true;
      views.render(ctx, 'error', { messageKey: 'error.csrf' }, 403);
      return false;
    },

    /** After a change: back to a page with a notice, so a reload does not post again. */
    done(ctx: Context, path: string, notice: MessageKey): void {
      ctx.status = 303;
      ctx.redirect(`${path}?done=${encodeURIComponent(notice)}`);
    },
  };
}

export type NetworkKit = ReturnType<typeof createNetworkKit>;
