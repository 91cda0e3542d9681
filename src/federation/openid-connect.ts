import * as client from 'openid-client';
import { Strategy, type AuthenticateOptions } from 'openid-client/passport';
import type { ProviderSettings } from '../config/federation-environment.js';
import type { StrategyRequest } from './passport-adapter.js';
import type { CallbackRequest, Checks, FederationProvider, UpstreamIdentity } from './provider.js';
import { identityThrough, redirectThrough } from './round-trip.js';
import { upstreamFetch } from './upstream-fetch.js';

/** What a provider module adds to the OpenID Connect round trip every such provider shares. */
export interface OpenIdProfile {
  /** The issuer identifier NetID discovers the provider from (openid-client checks the document against it). */
  server: string;
  scope: string;
  /** Extra authorization request parameters (Apple: `response_mode=form_post`). */
  authorizationParameters?: Record<string, string>;
  /** How NetID authenticates at the token endpoint, when not with the client secret (Apple signs a JWT). */
  clientAuthentication?: client.ClientAuth;
  /** Runs before each token request (Apple renews its client secret). */
  beforeTokenRequest?(): Promise<void>;
  /** Whether the userinfo endpoint should be read too, for what this ID token leaves out. */
  readUserinfo?: (claims: client.IDToken) => boolean;
  /** The provider's words, mapped to NetID's. */
  map(answer: OpenIdAnswer): UpstreamIdentity;
}

/** Everything checked that the provider said about the person. */
export interface OpenIdAnswer {
  claims: client.IDToken;
  userinfo: client.UserInfoResponse | undefined;
  /** The form the provider posted its answer with, for what arrives there only (Apple's `user`). */
  form: Record<string, string> | undefined;
}

const SESSION_KEY = 'openid';

/**
 * openid-client's own passport strategy, told the state NetID chose (its
 * interaction uid rides in it) and a nonce, which it keeps with the PKCE
 * verifier and checks on the way back; the request it reads is the answer
 * as it reached NetID.
 */
class NetidOpenIdStrategy extends Strategy {
  constructor(
    options: ConstructorParameters<typeof Strategy>[0] & { passReqToCallback: true },
    verify: (req: never, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, done: (error: unknown, user?: unknown) => void) => void,
    private readonly extra: Record<string, string>,
  ) {
    super(options as never, verify as never);
  }

  override authorizationRequestParams<T extends AuthenticateOptions>(req: never, options: T): URLSearchParams {
    const params = new URLSearchParams(super.authorizationRequestParams(req, options));
    const request = req as StrategyRequest;
    if (request.netidState) params.set('state', request.netidState);
    params.set('nonce', client.randomNonce());
    for (const [name, value] of Object.entries(this.extra)) params.set(name, value);
    return params;
  }

  override currentUrl(req: never): URL {
    const request = req as StrategyRequest;
    return new URL(`${request.protocol}://${request.host}${request.originalUrl}`);
  }
}

/**
 * An OpenID Connect provider (Google, Apple, Microsoft, any configured one):
 * discovered on first use, through the configured addresses, and kept; a
 * failed discovery is tried again at the next sign-in.
 */
export function openIdProvider(settings: ProviderSettings, callbackUrl: string, profile: OpenIdProfile): FederationProvider {
  const discovery = settings.endpoints.discovery ?? `${profile.server.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const insecure = [discovery, ...Object.values(settings.endpoints)].some((url) => url?.startsWith('http:'));
  let strategy: Promise<NetidOpenIdStrategy> | undefined;

  async function build(): Promise<NetidOpenIdStrategy> {
    const config = await client.discovery(
      new URL(profile.server),
      settings.clientId,
      settings.clientSecret ? { client_secret: settings.clientSecret } : {},
      profile.clientAuthentication ?? (settings.clientSecret ? client.ClientSecretPost(settings.clientSecret) : client.None()),
      {
        [client.customFetch]: upstreamFetch(`${profile.server.replace(/\/$/, '')}/.well-known/openid-configuration`, { ...settings.endpoints, discovery }),
        // openid-client trusts an ID token from the token endpoint on TLS alone (OpenID Connect Core 3.1.3.7 allows it);
        // NetID checks its signature against the provider's JWKS as well. Plain http only where configuration allowed
        // it: a stand-in on this machine (src/config/federation-environment.ts).
        execute: [client.enableNonRepudiationChecks, ...(insecure ? [client.allowInsecureRequests] : [])],
        timeout: 10,
      },
    );
    const verify = (req: never, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, done: (error: unknown, user?: unknown) => void) => {
      (async () => {
        const claims = tokens.claims();
        if (!claims) throw new Error('the provider sent no ID token');
        const wanted = profile.readUserinfo?.(claims) && config.serverMetadata().userinfo_endpoint;
        const userinfo = wanted ? await client.fetchUserInfo(config, tokens.access_token, claims.sub) : undefined;
        return profile.map({ claims, userinfo, form: (req as StrategyRequest).body });
      })().then((identity) => done(null, identity), (error: unknown) => done(error));
    };
    return new NetidOpenIdStrategy(
      { config, name: settings.id, sessionKey: SESSION_KEY, callbackURL: callbackUrl, scope: profile.scope, passReqToCallback: true },
      verify,
      profile.authorizationParameters ?? {},
    );
  }

  const ready = () => {
    strategy ??= build().catch((error: unknown) => {
      strategy = undefined;
      throw error;
    });
    return strategy;
  };

  return {
    id: settings.id,
    displayName: settings.displayName,
    async authorizationUrl(state: string, checks: Checks) {
      return redirectThrough(await ready(), callbackUrl, state, checks);
    },
    async identityFrom(callback: CallbackRequest, checks: Checks) {
      await profile.beforeTokenRequest?.();
      return identityThrough(await ready(), callbackUrl, callback, checks);
    },
  };
}
