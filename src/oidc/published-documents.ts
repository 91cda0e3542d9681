import type { Middleware } from 'koa';

/** The documents every relying party fetches and caches: the same for everyone, so a shared cache may keep them. */
const PUBLISHED = new Set(['/.well-known/openid-configuration', '/jwks']);

/**
 * How long relying parties and caches may keep discovery and JWKS. Short
 * enough that a key added with `keys add-next` reaches them within minutes;
 * the README's key rotation waits at least this long between steps.
 */
export const PUBLISHED_MAX_AGE_SECONDS = 300;

export function publishedDocumentCaching(): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.method === 'GET' && ctx.status === 200 && PUBLISHED.has(ctx.path)) {
      ctx.set('Cache-Control', `public, max-age=${PUBLISHED_MAX_AGE_SECONDS}`);
    }
  };
}
