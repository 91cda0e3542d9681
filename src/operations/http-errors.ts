import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { Views } from '../views/render.js';

/**
 * The last safety net for NetID's own routes: a person sees a page, a script
 * sees JSON, and nobody sees a stack trace. oidc-provider's routes answer
 * with standard OAuth errors through its own handler.
 */
export function errorPages(views: Views, logger: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        views.render(ctx, 'error', { messageKey: 'error.not_found' }, 404);
      }
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      const exposed = status < 500 && (error as { expose?: boolean }).expose;
      if (status >= 500) logger.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.status = status;
        ctx.body = { error: status >= 500 ? 'server_error' : 'invalid_request', ...(exposed ? { error_description: (error as Error).message } : {}) };
        return;
      }
      views.render(ctx, 'error', { messageKey: status >= 500 ? 'error.internal' : 'error.oauth' }, status);
    }
  };
}

/** One line per request; the path only, since query strings can carry codes and tokens. */
export function requestLog(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      logger.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms }, 'request');
    }
  };
}
