import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { answerDatabaseOutage } from '../operations/http-errors.js';
import { isBrowserEndpoint } from './endpoints.js';
import type { Views } from '../views/render.js';

/** Whether the oidc-provider endpoint this request is for answers in JSON whatever the Accept header says. */
export function answersInJson(ctx: Context): boolean {
  return !isBrowserEndpoint(ctx.path);
}

/**
 * oidc-provider answers what fails inside a route itself. This answers what
 * escapes its route handlers, such as the request's writes failing after the
 * route has answered (src/oidc/request-writes.ts) or a session that cannot be
 * saved, in the same form: an OAuth error in JSON, or for a browser route a
 * page, and never the answer the route had prepared. A database that cannot
 * be reached, wherever it failed the request, is a 503 that says to try
 * again rather than oidc-provider's server_error.
 */
export function protocolFailures(provider: Provider, views: Views, logger: Logger) {
  // oidc-provider reports what its own handlers answered as server_error, after answering.
  const outages = new WeakSet<object>();
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: unknown) => {
    if (isDatabaseUnavailable(error)) outages.add(ctx);
  });

  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        logger.warn({ err: error, method: ctx.method, path: ctx.path }, 'database unavailable');
        answerDatabaseOutage(ctx, views, answersInJson(ctx));
        return;
      }
      const known = error instanceof errors.OIDCProviderError && error.expose ? error : undefined;
      if (!known) logger.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      const out = known ? { error: known.error, error_description: known.error_description } : { error: 'server_error' };
      ctx.status = known?.statusCode ?? 500;
      if (answersInJson(ctx)) {
        ctx.body = out;
        return;
      }
      ctx.type = 'html';
      ctx.body = views.html(ctx, 'error', known ? { code: out.error, description: out.error_description } : { messageKey: 'error.internal' });
      return;
    }
    if (outages.has(ctx)) answerDatabaseOutage(ctx, views, answersInJson(ctx));
  };
}
