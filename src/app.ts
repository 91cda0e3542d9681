import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import Koa, { type DefaultState, type Middleware } from 'koa';
import compose from 'koa-compose';
import helmet from 'koa-helmet';
import mount from 'koa-mount';
import { registerApiResourceServer } from './api/api-resource-server.js';
import { createApiRouter } from './api/api-router.js';
import type { NetidContext } from './context.js';
import { createDevOutboxRouter } from './delivery/dev-outbox-page.js';
import { createDemoRouter } from './demo/relying-party.js';
import { createFederationCallbackRouter } from './federation/callback-router.js';
import { createInteractionRouter } from './interactions/router.js';
import { browserPostAsGet } from './oidc/browser-post.js';
import { publishedDocumentCaching } from './oidc/published-documents.js';
import { createNetworkRouter } from './profile/network-router.js';
import { createNetworkSession, ensureNetworkClient } from './profile/network-session.js';
import { createPhotosRouter } from './profile/photos-route.js';
import { errorPages, requestLog } from './operations/http-errors.js';
import { createHealthRouter } from './operations/health.js';
import { metricsOnMainPort } from './operations/metrics-endpoint.js';
import { requestMetrics } from './operations/request-metrics.js';
import { createCsrf } from './security/csrf.js';
import { denyFraming } from './security/frame-guard.js';
import { inputGuard } from './security/input-guard.js';
import { requestOrigin } from './security/request-origin.js';
import { createCookieSigner } from './security/cookie-signer.js';
import { VIEWS_DIRECTORY } from './views/render.js';
import { serveScripts } from './views/scripts.js';

/** A route of NetID's own pages, as its router declares it. */
export interface PageRoute {
  methods: string[];
  path: string;
  /** Whether a request path is this route's. */
  matches(requestPath: string): boolean;
}

export interface OwnPages {
  /** Runs the page routers; for a path that is not a page it only calls `next`. */
  middleware: Middleware;
  /** Every route the page routers declare, for tests and for finding where a form lives. */
  routes: PageRoute[];
  /** Whether a path belongs to NetID's pages; everything else is oidc-provider's. */
  isOwnPage(path: string): boolean;
}

/** The literal first segment of a route ('' for `/`), or undefined when it starts with a parameter. */
function firstSegment(routePath: string): string | undefined {
  const match = /^\/([A-Za-z0-9_.-]*)(?=$|[/(])/.exec(routePath);
  return match?.[1];
}

/** The routers of NetID's own pages, and which paths they own, derived from the routers themselves. */
export function createOwnPages(context: NetidContext): OwnPages {
  const { config, provider, views, queries } = context;
  // NetID's own pages; oidc-provider's responses keep the headers it sets itself.
  const pageHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // Redirects after a form post leave for the relying party, which form-action would block.
        formAction: null,
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
  });

  const site = new Router();
  for (const [file, type] of [['netid.css', 'text/css'], ['federation-continue.js', 'text/javascript']] as const) {
    const asset = fs.readFileSync(path.join(VIEWS_DIRECTORY, 'assets', file));
    site.get(`/assets/${file}`, (ctx) => {
      ctx.type = type;
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = asset;
    });
  }
  serveScripts(site);
  // The network profile is what a person comes for; relying parties find the rest by discovery.
  site.get('/', (ctx) => ctx.redirect('/network'));

  const csrf = createCsrf(context.secrets.csrfKey);
  const networkSession = createNetworkSession(provider, queries.profiles, config.issuer, (visitor, ip) =>
    context.services.sessions.touch(visitor.sessionUid, ip),
  );
  const routers: Router[] = [
    createHealthRouter(context.db),
    site,
    createPhotosRouter(context.queries.photos),
    createInteractionRouter(context, csrf),
    createFederationCallbackRouter(context.services.federation, views),
    networkSession.routes(views),
    createNetworkRouter(context, csrf, networkSession),
  ];
  routers.push(createApiRouter(context));
  if (config.demoData) routers.push(createDemoRouter(config.issuer, views));
  if (context.devOutbox) routers.push(createDevOutboxRouter(context.devOutbox, views));

  const routes = routers.flatMap((router) =>
    router.stack
      .filter((layer) => layer.methods.length > 0)
      .map((layer) => ({ methods: [...layer.methods], path: String(layer.path), matches: (requestPath: string) => layer.match(requestPath) })),
  );
  const segments = new Set<string>();
  for (const route of routes) {
    const segment = firstSegment(route.path);
    // A page route starting with a parameter would claim every path, oidc-provider's included.
    if (segment === undefined) throw new Error(`page route ${route.path} must start with a fixed segment`);
    segments.add(segment);
  }
  const isOwnPage = (requestPath: string) => segments.has(/^\/([^/]*)/.exec(requestPath)?.[1] ?? '');
  const withPageHeaders = new Set(['interaction', 'network', 'demo', 'dev', 'federation']);

  // The routers add `params` to the context they are given, hence its open type.
  const pages: Middleware<DefaultState, any>[] = [
    (ctx, next) => (withPageHeaders.has(/^\/([^/]*)/.exec(ctx.path)?.[1] ?? '') ? pageHeaders(ctx, next) : next()),
    ...routers.map((router) => router.routes()),
  ];
  const ownPages = compose(pages);
  return {
    // Token, userinfo and introspection calls are most of the traffic; they go to
    // oidc-provider without being matched against every route of NetID's pages.
    middleware: (ctx, next) => (isOwnPage(ctx.path) ? ownPages(ctx, next) : next()),
    routes,
    isOwnPage,
  };
}

/**
 * The network pages' own client and the management API's resource server
 * follow ISSUER, so the server (re)registers them at every start. The command line leaves it alone: it may run without the
 * server's ISSUER, and must not move the client's redirect URI elsewhere.
 */
export async function registerOwnClients(context: NetidContext): Promise<void> {
  await ensureNetworkClient(context.queries.clients, context.config.issuer);
  await registerApiResourceServer(context.queries, context.config.issuer);
}

/** Middleware order and routes; no listening, so tests and the server share it. */
export function createApp(context: NetidContext): Koa {
  const { config, provider, views } = context;
  // `proxy` because requestOrigin states the origin in X-Forwarded-* itself; the client address
  // comes from X-Forwarded-For only through `proxyHops` trusted proxies.
  const app = new Koa({ proxy: true, maxIpsCount: config.proxyHops });
  // Koa's types ask for keygrip's class; any object with its three methods is what cookies uses.
  app.keys = createCookieSigner(context.secrets.cookieKeys) as unknown as Koa['keys'];
  app.silent = true;
  const pages = createOwnPages(context);

  app.use(requestOrigin(config.issuer, config.proxyHops));
  // Before the request histogram, so that scrapes are not counted as traffic.
  app.use(metricsOnMainPort(context.metrics, config.metrics));
  app.use(requestMetrics(context.metrics));
  app.use(requestLog(context.logger));
  app.use(denyFraming());
  app.use(errorPages(views, context.logger, pages));
  app.use(inputGuard({ views, isOwnPage: pages.isOwnPage }));
  app.use(pages.middleware);
  app.use(browserPostAsGet(config.issuer, views));
  app.use(publishedDocumentCaching());
  app.use(mount(provider));
  return app;
}
