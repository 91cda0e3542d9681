import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import type { Views } from '../views/render.js';

/** What errorPages needs to know of NetID's own pages. */
export interface PageDirectory {
  isOwnPage(path: string): boolean;
  routes: Array<{ methods: string[]; matches(path: string): boolean }>;
}

/**
 * The page a form was posted from: the nearest path at or above the form's
 * action that answers GET (`/network/phone/confirm` → `/network/phone`,
 * `/interaction/x/login` → `/interaction/x`).
 */
export function formPageOf(pages: PageDirectory, formPath: string): string {
  const segments = formPath.split('/').filter(Boolean);
  for (let length = segments.length; length >= 0; length--) {
    const candidate = `/${segments.slice(0, length).join('/')}`;
    if (pages.routes.some((route) => route.methods.includes('GET') && route.matches(candidate))) return candidate;
  }
  return '/';
}

/** How long to wait before trying again while the database cannot be reached; it is mostly a restart or a failover. */
const RETRY_AFTER_SECONDS = 5;

/**
 * The answer while the database cannot be reached: 503 with Retry-After, in
 * JSON as RFC 6749 names it (temporarily_unavailable) for a program, or a
 * page that says to try again for a person.
 */
export function answerDatabaseOutage(ctx: Context, views: Views, json: boolean): void {
  ctx.remove('Location');
  ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  if (json) {
    ctx.status = 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'temporarily_unavailable', error_description: 'NetID cannot reach its database right now; try again shortly' };
    return;
  }
  views.render(ctx, 'error', { messageKey: 'error.unavailable' }, 503);
}

/**
 * The last safety net for NetID's own routes: a person sees a page, a script
 * sees JSON, and nobody sees a stack trace; while the database is away, both
 * are told to try again. oidc-provider's routes answer with standard OAuth
 * errors (src/oidc/protocol-failures.ts).
 */
export function errorPages(views: Views, logger: Logger, pages: PageDirectory) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        views.render(ctx, 'error', { titleKey: 'error.not_found_title', messageKey: 'error.not_found', home: true }, 404);
      }
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        logger.warn({ err: error, method: ctx.method, path: ctx.path }, 'database unavailable');
        answerDatabaseOutage(ctx, views, ctx.accepts('html', 'json') === 'json');
        return;
      }
      const status = (error as { status?: number }).status ?? 500;
      if (status === 413 && ctx.method === 'POST' && pages.isOwnPage(ctx.path)) {
        // A form too long to read: back to the form, which says so. Nothing was changed.
        ctx.status = 303;
        ctx.redirect(`${formPageOf(pages, ctx.path)}?problem=problem.form_too_large`);
        return;
      }
      const exposed = status < 500 && (error as { expose?: boolean }).expose;
      if (status >= 500) logger.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.status = status;
        ctx.body = { error: status >= 500 ? 'server_error' : 'invalid_request', ...(exposed ? { error_description: (error as Error).message } : {}) };
        return;
      }
      views.render(ctx, 'error', { messageKey: status >= 500 ? 'error.internal' : 'error.oauth', home: true }, status);
    }
  };
}

/** One line per request; the path only, since query strings can carry codes and tokens. */
export function requestLog(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    // With info lines off (LOG_LEVEL=warn), there is no line to time or build for every token call.
    if (!logger.isLevelEnabled('info')) return next();
    const started = performance.now();
    try {
      await next();
    } finally {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      logger.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms }, 'request');
    }
  };
}
