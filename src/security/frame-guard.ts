import type { Middleware } from 'koa';

/**
 * No page NetID renders may be shown inside another site's frame
 * (clickjacking). helmet says so for NetID's own pages; this covers every other
 * HTML answer too: oidc-provider's sign-out confirmation and form_post page,
 * and the error pages. A policy already set keeps its other directives (the
 * form_post page adds a script hash to it).
 */
export function denyFraming(): Middleware {
  return async (ctx, next) => {
    await next();
    if (!ctx.response.is('html')) return;
    const policy = ctx.response.get('Content-Security-Policy');
    if (!/(^|;)\s*frame-ancestors\b/.test(policy)) {
      ctx.set('Content-Security-Policy', policy ? `${policy}; frame-ancestors 'none'` : "frame-ancestors 'none'");
    }
    ctx.set('X-Frame-Options', 'DENY');
  };
}
