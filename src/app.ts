import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import Koa, { type DefaultState, type Middleware } from 'koa';
import compose from 'koa-compose';
import helmet from 'koa-helmet';
import mount from 'koa-mount';
import type { NetidContext } from './context.js';
import { createDevOutboxRouter } from './delivery/dev-outbox-page.js';
import { createDemoRouter } from './demo/relying-party.js';
import { createInteractionRouter } from './interactions/router.js';
import { createNetworkRouter } from './profile/network-router.js';
import { createNetworkSession } from './profile/network-session.js';
import { createPhotosRouter } from './profile/photos-route.js';
import { errorPages, requestLog } from './operations/http-errors.js';
import { createHealthRouter } from './operations/health.js';
import { createCsrf } from './security/csrf.js';
import { VIEWS_DIRECTORY } from './views/render.js';

/** The paths NetID's own routers answer; everything else is oidc-provider's. */
const OWN_PAGE = /^\/(?:(?:interaction|network|demo|dev|assets|photos)(?:\/|$)|healthz$|readyz$|$)/;

export function isOwnPage(path: string): boolean {
  return OWN_PAGE.test(path);
}

/** Middleware order and routes; no listening, so tests and the server share it. */
export function createApp(context: NetidContext): Koa {
  const { config, provider, views, queries } = context;
  const app = new Koa({ proxy: config.trustProxy });
  app.keys = context.secrets.cookieKeys;
  app.silent = true;

  app.use(requestLog(context.logger));
  app.use(errorPages(views, context.logger));
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
  const stylesheet = fs.readFileSync(path.join(VIEWS_DIRECTORY, 'assets', 'netid.css'));
  site.get('/assets/netid.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = stylesheet;
  });
  // The network profile is what a person comes for; relying parties find the rest by discovery.
  site.get('/', (ctx) => ctx.redirect('/network'));

  const csrf = createCsrf(context.secrets.csrfKey);
  const interactions = createInteractionRouter(context, csrf);
  const networkSession = createNetworkSession(provider, queries.profiles, config.issuer);

  // The routers add `params` to the context they are given, hence its open type.
  const pages: Middleware<DefaultState, any>[] = [
    createHealthRouter(context.db).routes(),
    site.routes(),
    createPhotosRouter(context.db).routes(),
    (ctx, next) => (/^\/(interaction|network|demo|dev)(\/|$)/.test(ctx.path) ? pageHeaders(ctx, next) : next()),
    interactions.routes(),
    networkSession.routes(views).routes(),
    createNetworkRouter(context, csrf, networkSession).routes(),
  ];
  if (config.demoData) pages.push(createDemoRouter(config.issuer, views).routes());
  if (context.devOutbox) pages.push(createDevOutboxRouter(context.devOutbox, views).routes());
  const ownPages = compose(pages);
  // Token, userinfo and introspection calls are most of the traffic; they go to
  // oidc-provider without being matched against every route of NetID's pages.
  app.use((ctx, next) => (isOwnPage(ctx.path) ? ownPages(ctx, next) : next()));
  app.use(mount(provider));
  return app;
}
