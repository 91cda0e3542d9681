import type { Context } from 'koa';
import * as oidc from 'openid-client';
import type { ClientMetadata, ClientQueries } from '../db/clients.js';

/** Registers (or updates) a first-party client NetID itself uses, so it follows ISSUER. */
export async function ensureFirstPartyClient(clients: ClientQueries, metadata: ClientMetadata): Promise<void> {
  if (await clients.findMetadata(metadata.client_id)) {
    await clients.updateMetadata(metadata.client_id, metadata);
    return;
  }
  try {
    await clients.insert({ metadata, firstParty: true });
  } catch (error) {
    // Another instance starting at the same moment registered it first.
    if ((error as { code?: string }).code !== '23505') throw error;
    await clients.updateMetadata(metadata.client_id, metadata);
  }
}

interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

export interface LocalRelyingPartyOptions {
  issuer: string;
  clientId: string;
  /** Path of the redirect URI, under the issuer. */
  callbackPath: string;
  /** Signed cookie holding state, nonce and PKCE verifier between the two legs. */
  cookieName: string;
  scope: string;
}

/**
 * A public, PKCE-protected OIDC client living inside NetID (the network pages,
 * the demo app): it signs in through NetID's own authorization endpoint exactly
 * as an account would, with openid-client.
 */
export function createLocalRelyingParty(options: LocalRelyingPartyOptions) {
  const redirectUri = `${options.issuer}${options.callbackPath}`;
  const cookiePath = options.callbackPath.replace(/\/[^/]*$/, '') || '/';
  let configuration: Promise<oidc.Configuration> | undefined;

  const discover = () => {
    configuration ??= oidc
      .discovery(new URL(options.issuer), options.clientId, undefined, oidc.None(), {
        execute: options.issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
      })
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  };

  return {
    redirectUri,

    /** Redirects the browser to NetID's authorization endpoint. */
    async start(ctx: Context, params: { returnTo?: string; prompt?: string } = {}): Promise<void> {
      const config = await discover();
      const pending: PendingSignIn = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        verifier: oidc.randomPKCECodeVerifier(),
        returnTo: params.returnTo ?? '/',
      };
      ctx.cookies.set(options.cookieName, Buffer.from(JSON.stringify(pending)).toString('base64url'), {
        signed: true,
        httpOnly: true,
        sameSite: 'lax',
        path: cookiePath,
        overwrite: true,
      });
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: options.scope,
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
        ...(params.prompt ? { prompt: params.prompt } : {}),
      });
      ctx.redirect(url.toString());
    },

    /** Completes the callback; undefined when there was no sign-in in progress in this browser. */
    async finish(ctx: Context): Promise<{ tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers; returnTo: string; configuration: oidc.Configuration } | undefined> {
      const raw = ctx.cookies.get(options.cookieName, { signed: true });
      if (!raw) return undefined;
      ctx.cookies.set(options.cookieName, null, { path: cookiePath });
      let pending: PendingSignIn;
      try {
        pending = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PendingSignIn;
      } catch {
        return undefined;
      }
      const config = await discover();
      const tokens = await oidc.authorizationCodeGrant(config, new URL(ctx.originalUrl, options.issuer), {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
      });
      // Only NetID's own paths: a crafted returnTo must not turn this into an open redirect.
      const returnTo = pending.returnTo.startsWith('/') && !pending.returnTo.startsWith('//') ? pending.returnTo : '/';
      return { tokens, returnTo, configuration: config };
    },
  };
}

export type LocalRelyingParty = ReturnType<typeof createLocalRelyingParty>;
