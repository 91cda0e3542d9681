import * as oidc from 'openid-client';
import type { UserAgent } from './user-agent.js';

export interface PendingAuthorization {
  url: URL;
  state: string;
  nonce: string;
  verifier: string;
}

/** A relying party as a Bitrix24 account would be: openid-client against NetID's discovery. */
export async function discoverAsClient(issuer: string, clientId: string, clientSecret?: string): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(issuer),
    clientId,
    undefined,
    clientSecret ? oidc.ClientSecretBasic(clientSecret) : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
}

export async function startAuthorization(
  config: oidc.Configuration,
  redirectUri: string,
  params: Record<string, string> = {},
): Promise<PendingAuthorization> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, state, nonce, verifier };
}

export function exchangeCode(config: oidc.Configuration, callback: URL, pending: PendingAuthorization) {
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: pending.verifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
}

/** Signs a person in through NetID's HTML forms and returns the callback the relying party receives. */
export async function signInThroughForms(agent: UserAgent, authorizationUrl: URL, identifier: string, password: string): Promise<URL> {
  const login = await agent.page(authorizationUrl.toString());
  const result = await agent.submit(login, 'form[action$="/login"]', { identifier, password });
  if (!('location' in result)) {
    throw new Error(`sign-in did not return to the relying party (${result.status}):\n${result.html.slice(0, 1500)}`);
  }
  return result.location;
}
