import Router from '@koa/router';
import type { Context } from 'koa';
import type { Views } from '../views/render.js';
import { formParser } from '../views/form-fields.js';
import { ANSWER_FIELDS } from './callback-request.js';
import { routeOfState } from './federation-service.js';
import type { FederationRegistry } from './registry.js';

/**
 * The one address per provider registered at the provider
 * (`/federation/<provider>/callback`). It holds no cookie of the sign-in, so
 * it only passes the answer on, by its state, to where the browser's cookies
 * arrive: the sign-in that started the round trip
 * (`/interaction/<uid>/…`, whose interaction cookie is scoped to that path)
 * or the signed-in Social media page.
 *
 * An answer by redirect (GET) is passed on by a redirect: a top-level GET
 * carries NetID's SameSite=Lax cookies whichever site it came from.
 *
 * An answer posted from the provider's page (Apple's `response_mode=form_post`)
 * is a cross-site POST, which carries none of them, and a redirect would
 * either turn it into a GET with the code in the address or keep it a
 * cross-site POST. So NetID answers it with a page of its own holding the
 * same fields in a form to the same destination, which a small script of
 * NetID's origin submits at once (or the person, without scripts): a POST
 * from NetID's own page to NetID, which carries the Lax cookies.
 */
export function createFederationCallbackRouter(registry: Pick<FederationRegistry, 'find'>, views: Views): Router {
  const router = new Router({ prefix: '/federation' });

  const destination = (ctx: Context, state: unknown): string | undefined => {
    const provider = ctx.params.provider!;
    const route = typeof state === 'string' && registry.find(provider) ? routeOfState(state) : undefined;
    if (!route) return undefined;
    return route.kind === 'interaction' ? `/interaction/${route.uid}/federation/${provider}/callback` : `/network/social/${provider}/callback`;
  };
  const unknown = (ctx: Context) => views.render(ctx, 'error', { messageKey: 'federation.state_invalid', home: true }, 400);

  router.get('/:provider/callback', (ctx) => {
    const path = destination(ctx, ctx.query.state);
    if (!path) return unknown(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(`${path}?${ctx.querystring}`);
  });

  router.post('/:provider/callback', formParser(), (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const path = destination(ctx, body.state);
    if (!path) return unknown(ctx);
    const fields = ANSWER_FIELDS.flatMap((name) => (typeof body[name] === 'string' ? [[name, (body[name] as string).slice(0, 8192)] as const] : []));
    views.render(ctx, 'federation-continue', { action: path, fields });
  });

  return router;
}
