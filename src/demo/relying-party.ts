import Router from '@koa/router';
import * as oidc from 'openid-client';
import type { ClientQueries } from '../db/clients.js';
import { createLocalRelyingParty, ensureFirstPartyClient } from '../oidc/local-relying-party.js';
import type { Views } from '../views/render.js';

export const DEMO_CLIENT_ID = 'netid-demo';

export function ensureDemoClient(clients: ClientQueries, issuer: string): Promise<void> {
  return ensureFirstPartyClient(clients, {
    client_id: DEMO_CLIENT_ID,
    client_name: 'NetID demo',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [`${issuer}/demo/callback`],
    post_logout_redirect_uris: [`${issuer}/demo`],
    token_endpoint_auth_method: 'none',
  });
}

/**
 * A small relying party served by NetID itself in development: it signs in
 * through NetID with openid-client, exactly as an account would, and shows the
 * ID token claims it received.
 */
export function createDemoRouter(issuer: string, views: Views): Router {
  const router = new Router({ prefix: '/demo' });
  const rp = createLocalRelyingParty({
    issuer,
    clientId: DEMO_CLIENT_ID,
    callbackPath: '/demo/callback',
    cookieName: 'netid.demo',
    scope: 'openid profile email phone',
  });

  router.get('/', (ctx) => views.render(ctx, 'demo'));
  router.get('/login', (ctx) => rp.start(ctx, { returnTo: '/demo' }));
  router.get('/callback', async (ctx) => {
    let result;
    try {
      result = await rp.finish(ctx);
    } catch (error) {
      const code = (error as { error?: string }).error ?? 'invalid_response';
      views.render(ctx, 'error', { code, description: (error as Error).message }, 400);
      return;
    }
    if (!result) {
      ctx.redirect('/demo');
      return;
    }
    const { tokens, configuration } = result;
    const claims = tokens.claims()!;
    const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub);
    const logoutUrl = oidc.buildEndSessionUrl(configuration, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: `${issuer}/demo`,
    });
    views.render(ctx, 'demo', { claims, userinfo, logoutUrl: logoutUrl.toString() });
  });
  return router;
}
