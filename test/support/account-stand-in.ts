import * as oidc from 'openid-client';
import type { Route } from 'playwright-core';
import type { RunningNetid } from './netid-server.js';
import { discoverAsClient } from './relying-party.js';

interface PendingLogin {
  verifier: string;
  state: string;
  nonce: string;
  config: oidc.Configuration;
}

/**
 * What a Bitrix24 account does with NetID, for a browser test: each account
 * lives at https://{name}.bitrix24.test (ACCOUNT_URL_PATTERN in tests), which
 * the browser reaches through this route handler. It answers third-party-
 * initiated login with an authorization request of the account's own client
 * (openid-client, with its secret, PKCE, state and nonce), exchanges the code
 * at the callback and shows the ID token's claims in `#claims`. `pages` adds
 * paths of the account's own site (e.g. a page with a form that posts to NetID).
 */
export function accountStandIn(netid: RunningNetid, pages: Record<string, (name: string) => string> = {}) {
  const pendingLogins = new Map<string, PendingLogin>();

  async function clientOf(name: string) {
    const account = await netid.context.queries.accounts.findByName(name);
    if (!account) return undefined;
    const stored = await netid.context.queries.clients.findByAccount(account.id);
    const metadata = await netid.context.queries.clients.findMetadata(stored!.client_id);
    const config = await discoverAsClient(netid.issuer, stored!.client_id, metadata!.client_secret as string);
    return { config, redirectUri: (metadata!.redirect_uris as string[])[0]! };
  }

  return {
    /** Starts an authorization request the way the account would, and remembers what the callback will check. */
    async authorizationRequest(name: string, params: Record<string, string> = {}): Promise<URL> {
      const client = (await clientOf(name))!;
      const pending = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce(), config: client.config };
      pendingLogins.set(pending.state, pending);
      return oidc.buildAuthorizationUrl(client.config, {
        redirect_uri: client.redirectUri,
        scope: 'openid profile email phone membership',
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
        ...params,
      });
    },

    async route(route: Route): Promise<void> {
      const url = new URL(route.request().url());
      const name = url.hostname.split('.')[0]!;
      if (pages[url.pathname]) {
        return route.fulfill({ status: 200, contentType: 'text/html', body: pages[url.pathname]!(name) });
      }
      const client = await clientOf(name);
      if (!client) return route.fulfill({ status: 404, body: 'no such account' });
      if (url.pathname === '/oauth/netid/login') {
        if (url.searchParams.get('iss') !== netid.issuer) return route.fulfill({ status: 400, body: 'unexpected issuer' });
        return route.fulfill({ status: 302, headers: { location: (await this.authorizationRequest(name)).toString() } });
      }
      if (url.pathname === '/oauth/netid/callback') {
        const pending = pendingLogins.get(url.searchParams.get('state') ?? '');
        if (!pending) return route.fulfill({ status: 400, body: 'unknown state' });
        if (url.searchParams.get('error')) {
          const body = `<!DOCTYPE html><html lang="en"><title>${name}</title><main><h1>Not signed in</h1><p id="error">${url.searchParams.get('error')}</p></main></html>`;
          return route.fulfill({ status: 200, contentType: 'text/html', body });
        }
        const tokens = await oidc.authorizationCodeGrant(pending.config, url, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
        });
        const body = `<!DOCTYPE html><html lang="en"><title>${name}</title><main><h1>Welcome to ${name}</h1><pre id="claims">${JSON.stringify(tokens.claims())}</pre><pre id="id-token">${tokens.id_token}</pre></main></html>`;
        return route.fulfill({ status: 200, contentType: 'text/html', body });
      }
      const body = `<!DOCTYPE html><html lang="en"><title>${name}</title><main><h1>${name}</h1></main></html>`;
      return route.fulfill({ status: 200, contentType: 'text/html', body });
    },
  };
}
