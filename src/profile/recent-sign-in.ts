import type { Context, Middleware, Next } from 'koa';
import { hasSecondFactor, type FactorService } from '../factors/factor-service.js';
import { ACR, reaches } from '../oidc/authentication-context.js';
import { visitorOf } from './network-kit.js';
import { RECENT_SIGN_IN_SECONDS, type NetworkVisitor } from './network-session.js';

export { RECENT_SIGN_IN_SECONDS };

/**
 * Whether the visitor signed in recently enough for a change that needs it
 * (NIST SP 800-63B-4 reauthentication): within RECENT_SIGN_IN_SECONDS, and
 * with two factors when the profile has a second one.
 */
export async function isRecentSignIn(visitor: NetworkVisitor, factors: Pick<FactorService, 'enrolled'>, now = Date.now()): Promise<boolean> {
  if (now / 1000 - visitor.signedInAt > RECENT_SIGN_IN_SECONDS) return false;
  if (reaches(visitor.amr, ACR.twoFactors)) return true;
  return !hasSecondFactor(await factors.enrolled(visitor.profile.id));
}

/** Where the fresh sign-in starts, coming back to `returnTo` (a /network path) once done. */
export const freshSignInUrl = (returnTo: string) => `/network/sign-in?fresh=1&return=${encodeURIComponent(returnTo)}`;

/**
 * The one guard for changes that need a recent sign-in: turning a factor off
 * or adding one, changing the password, the email or the phone, deleting the
 * profile, linking or unlinking an identity. Put it after the network
 * session's `required()` (it reads `ctx.state.visitor`). A sign-in that is not
 * recent sends the person through a fresh one (`prompt=login` and `max_age`
 * on the network pages' own authorization request) and back to `returnTo`:
 * by default the page itself for a GET; a form posted too late comes back to
 * the page it was on (what it sent is not replayed), so name that page.
 */
export function requireRecentSignIn(factors: Pick<FactorService, 'enrolled'>, options: { returnTo?: string | ((ctx: Context) => string) } = {}): Middleware {
  return async (ctx: Context, next: Next) => {
    if (await isRecentSignIn(visitorOf(ctx), factors)) return next();
    const returnTo = typeof options.returnTo === 'function' ? options.returnTo(ctx) : (options.returnTo ?? (ctx.method === 'GET' ? ctx.originalUrl : ctx.path));
    ctx.status = 303;
    ctx.redirect(freshSignInUrl(returnTo));
  };
}
