import type { Context, Middleware } from 'koa';
import type { Metrics } from './metrics.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The label a request is counted under: the route as declared, never the path
 * itself, which holds interaction uids, photo ids and whatever a scanner
 * tries. NetID's pages and oidc-provider's endpoints are both matched by
 * @koa/router, which leaves the template (`/interaction/:uid/login`,
 * `/token`, `/auth/:uid`) on the context. Anything else is `unmatched`.
 */
export function routeOf(ctx: Context): string {
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  return typeof matched === 'string' ? matched : 'unmatched';
}

/** Times every request into the histogram; an increment and a clock read, nothing more on the hot path. */
export function requestMetrics(metrics: Pick<Metrics, 'requestDuration'>): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.requestDuration.observe(
        { method: METHODS.has(ctx.method) ? ctx.method : 'OTHER', route: routeOf(ctx), status_class: `${Math.floor(ctx.status / 100)}xx` },
        seconds,
      );
    }
  };
}
