import type { Context, Middleware } from 'koa';
import type { Views } from '../views/render.js';
import { POSTABLE_BROWSER_ENDPOINTS } from './endpoints.js';

/**
 * The longest form NetID turns into an address. Node refuses request lines and
 * headers over 16 kB; a request object by value fits easily, and a relying party
 * with more to say can push it first (PAR, RFC 9126).
 */
const MAX_FORM_BYTES = 8 * 1024;

/**
 * OpenID Connect Core 3.1.2.1 and RP-Initiated Logout 1.0 section 2 let a
 * relying party send the browser to the authorization and end-session
 * endpoints with a form POST. Such a POST comes from another site, so the
 * browser leaves out NetID's session cookie (SameSite=Lax), and NetID would not
 * know the person is signed in. oidc-provider would serve POST only with
 * SameSite=None cookies, which every other site's requests would then carry
 * too. Instead, NetID answers the POST with a 303 to the same endpoint with the
 * same parameters as a GET on its own origin: a top-level GET, which carries the
 * Lax cookies, and which oidc-provider handles as any other request.
 */
export function browserPostAsGet(issuer: string, views: Views): Middleware {
  const refuse = (ctx: Context, status: number, description: string) =>
    views.render(ctx, 'error', { messageKey: 'error.oauth', code: 'invalid_request', description }, status);

  return async (ctx, next) => {
    if (ctx.method !== 'POST' || !POSTABLE_BROWSER_ENDPOINTS.has(ctx.path)) return next();
    const body = ctx.state.protocolBody as Buffer | undefined;
    if (!body) return refuse(ctx, 400, 'the request must be sent as application/x-www-form-urlencoded');
    if (body.length > MAX_FORM_BYTES) return refuse(ctx, 413, 'the request is too large to be sent as a form; push it first (RFC 9126)');
    const params = new URLSearchParams(ctx.querystring);
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) params.append(name, value);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(`${issuer}${ctx.path}?${params.toString()}`);
  };
}
