import Router from '@koa/router';
import type { Context } from 'koa';
import * as oidc from 'openid-client';
import type { ClientQueries } from '../db/clients.js';
import type { Views } from '../views/render.js';

export const DEMO_CLIENT_ID = 'netid-demo';
const COOKIE = 'netid.demo';

/** The demo app's registration follows the issuer, so changing ISSUER keeps it working. */
export function demoClientRegistration(issuer: string) {
  return {
    client_id: DEMO_CLIENT_ID,
    client_name: 'NetID demo',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [`${issuer}/demo/callback`],
    post_logout_redirect_uris: [`${issuer}/demo`],
    token_endpoint_auth_method: 'none',
  };
}

export async function ensureDemoClient(clients: ClientQueries, issuer: string): Promise<void> {
  const metadata = demoClientRegistration(issuer);
  const existing = await clients.findMetadata(DEMO_CLIENT_ID);
  if (!existing) await clients.insert({ metadata, firstParty: true });
  else await clients.updateMetadata(DEMO_CLIENT_ID, metadata);
}

interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
}

/**
 * A small relying party served by NetID itself in development: it signs in
 * through NetID with openid-client, exactly as an account would, and shows the
 * ID token claims it received.
 */
export function createDemoRouter(issuer: string, views: Views): Router {
  const router = new Router({ prefix: '/demo' });
  let configuration: Promise<oidc.Configuration> | undefined;
  const discover = () => {
    configuration ??= oidc
      .discovery(new URL(issuer), DEMO_CLIENT_ID, undefined, oidc.None(), {
        execute: issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
      })
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  };
  const readPending = (ctx: Context): PendingSignIn | undefined => {
    const raw = ctx.cookies.get(COOKIE, { signed: true });
    if (!raw) return undefined;
    try {
      return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PendingSignIn;
    } catch {
      return undefined;
    }
  };

  router.get('/', (ctx) => views.render(ctx, 'demo'));

  router.get('/login', async (ctx) => {
    const config = await discover();
    const pending: PendingSignIn = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() };
    ctx.cookies.set(COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      path: '/demo',
    });
    ctx.redirect(
      oidc
        .buildAuthorizationUrl(config, {
          redirect_uri: `${issuer}/demo/callback`,
          scope: 'openid profile email phone',
          code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
          code_challenge_method: 'S256',
          state: pending.state,
          nonce: pending.nonce,
        })
        .toString(),
    );
  });

  router.get('/callback', async (ctx) => {
    const pending = readPending(ctx);
    if (!pending) {
      ctx.redirect('/demo');
      return;
    }
    ctx.cookies.set(COOKIE, null, { path: '/demo' });
    const config = await discover();
    const callbackUrl = new URL(ctx.originalUrl, issuer);
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
      });
    } catch (error) {
      views.render(ctx, 'error', { code: (error as { error?: string }).error ?? 'invalid_response', description: (error as Error).message }, 400);
      return;
    }
    const claims = tokens.claims()!;
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    const logoutUrl = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: `${issuer}/demo`,
    });
    views.render(ctx, 'demo', { claims, userinfo, logoutUrl: logoutUrl.toString() });
  });

  return router;
}
