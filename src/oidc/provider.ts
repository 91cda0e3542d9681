import type { JWK } from 'jose';
import Provider, { interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { MembershipService } from '../accounts/membership-service.js';
import { createClaimsSourceQueries } from '../db/claims-source.js';
import type { Database } from '../db/database.js';
import type { Queries } from '../db/queries.js';
import type { Sealer } from '../security/sealing.js';
import type { Views } from '../views/render.js';
import { createModelStorage } from './adapter.js';
import { reasonOf } from './backchannel-logout.js';
import { ACR_VALUES, acrRequestOf, reportedAcr } from './authentication-context.js';
import { accountDemandFrom, authenticationLevelCheck } from './authentication-level.js';
import { accountIdOf } from './client-kind.js';
import { profileClaims, SCOPE_CLAIMS } from './claims.js';
import { loadExistingGrant } from './grants.js';
import type { InstallationSecrets } from './installation-secrets.js';
import { membershipPrompt } from './membership-prompt.js';
import { outgoingFetch } from './outgoing-fetch.js';
import { acceptPreviousSecrets } from './previous-secret.js';
import { answersInJson, protocolFailures } from './protocol-failures.js';
import { resourceServerInfo } from './resource-server-info.js';
import { createCookieSigner } from '../security/cookie-signer.js';
import { SIGNING_ALGORITHMS } from './signing-keys.js';
import { TOKEN_LIFETIMES } from './token-lifetimes.js';


export interface ProviderDependencies {
  issuer: string;
  db: Database;
  jwks: { keys: JWK[] };
  secrets: InstallationSecrets;
  queries: Queries;
  memberships: MembershipService;
  /** Seals what is kept at rest under KEY_ENCRYPTION_KEY. */
  sealer: Sealer;
  views: Views;
  logger: Logger;
  /** OUTGOING_PRIVATE_NETWORKS=allow: outgoing requests may reach loopback and private addresses. */
  allowPrivateNetworks: boolean;
}


export function createProvider(deps: ProviderDependencies): Provider {
  const { issuer, views, memberships } = deps;
  const claimsSources = createClaimsSourceQueries(deps.db);

  const policy = interactionPolicy.base();
  // prompt=create opens the sign-up form (OpenID Connect "Initiating User Registration"); never needed otherwise.
  policy.add(new interactionPolicy.Prompt({ name: 'create', requestable: true }), 0);
  policy.add(membershipPrompt(memberships), 2);
  // NetID's levels are ordered, where oidc-provider's own checks compare one value.
  const login = policy.get('login')!;
  login.checks.remove('essential_acrs');
  login.checks.remove('essential_acr');
  login.checks.add(authenticationLevelCheck(accountDemandFrom(deps.queries.accounts)));

  const photoUrl = (photo: string) => `${issuer}/photos/${encodeURIComponent(photo)}`;

  const storage = createModelStorage(deps.db, deps.queries.clients, deps.sealer);

  const configuration: Configuration = {
    adapter: storage.adapterFor,
    fetch: outgoingFetch({ allowPrivateNetworks: deps.allowPrivateNetworks }),
    jwks: deps.jwks as Configuration['jwks'],
    cookies: {
      keys: createCookieSigner(deps.secrets.cookieKeys),
      names: { session: 'netid.session', interaction: 'netid.interaction', resume: 'netid.resume' },
    },

    // oidc-provider knows the client before it looks up the person, so the membership comes in the same
    // read, or was read with the token the request presented.
    async findAccount(ctx, sub) {
      const accountId = accountIdOf(ctx.oidc.client);
      const prefetched = storage.takePrefetchedClaims(ctx, sub, accountId);
      const source = prefetched.found ? prefetched.value : await claimsSources.find(sub, accountId);
      if (!source) return undefined;
      return {
        accountId: source.profile.id,
        async claims() {
          return profileClaims(source.profile, source.membership, photoUrl);
        },
      };
    },

    claims: SCOPE_CLAIMS,
    // Accounts read names and addresses from the ID token; many RPs never call userinfo.
    conformIdTokenClaims: false,
    acrValues: [...ACR_VALUES],

    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // One account must not learn about another account's tokens; first-party resource servers may.
        async allowedPolicy(ctx, client, token) {
          return token.clientId === client.clientId || client.metadata().netid_first_party === true;
        },
      },
      revocation: {
        enabled: true,
        async allowedPolicy(ctx, client, token) {
          return token.clientId === client.clientId;
        },
      },
      userinfo: { enabled: true },
      // RFC 8707: a `resource` parameter asks for a token to a registered resource server (src/db/resource-servers.ts);
      // without one, the access token is for userinfo, as before.
      resourceIndicators: { enabled: true, getResourceServerInfo: resourceServerInfo(deps.queries.resourceServers, issuer) },
      claimsParameter: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      dPoP: { enabled: true, nonceSecret: deps.secrets.dpopNonceSecret },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = views.html(ctx, 'logout', { form });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = views.html(ctx, 'logged-out');
        },
      },
    },

    extraClientMetadata: {
      properties: ['netid_account_id', 'netid_first_party', 'netid_operator', 'netid_previous_secret', 'netid_previous_secret_expires_at'],
    },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    // RFC 9700 2.1.2: no implicit or hybrid flows. `none` issues nothing: the
    // network-profile pages use it to have a person sign in (src/profile/network-session.ts).
    responseTypes: ['code', 'none'],
    enabledJWA: {
      idTokenSigningAlgValues: [...SIGNING_ALGORITHMS],
      userinfoSigningAlgValues: [...SIGNING_ALGORITHMS],
      introspectionSigningAlgValues: [...SIGNING_ALGORITHMS],
      authorizationSigningAlgValues: [...SIGNING_ALGORITHMS],
    },

    interactions: {
      policy,
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    loadExistingGrant,
    // Every refresh rotates (RFC 9700 4.14.2); the adapter's reuse window absorbs racing instances.
    rotateRefreshToken: true,

    ttl: TOKEN_LIFETIMES,

    // Called for any route when the client prefers HTML; a program's endpoint answers in JSON all the same.
    async renderError(ctx, out) {
      if (answersInJson(ctx)) {
        ctx.body = out;
        return;
      }
      ctx.type = 'html';
      ctx.body = views.html(ctx, 'error', {
        code: out.error,
        description: out.error_description,
      });
    },
  };

  const provider = new Provider(issuer, configuration);
  // Host and scheme come from ISSUER through X-Forwarded-* (src/security/request-origin.ts), also in
  // the contexts oidc-provider makes itself to read and write cookies.
  provider.proxy = true;
  acceptPreviousSecrets(provider);

  // First, so it answers whatever escapes the rest, the request's writes included.
  provider.use(protocolFailures(provider, views, deps.logger));
  // Next, so it wraps everything else oidc-provider runs for a request.
  provider.use(storage.trackRequest);

  // The session keeps what was proven (`amr`); each relying party is told the level in the terms it asked in.
  provider.on('authorization.accepted', (ctx: KoaContextWithOIDC) => {
    const session = ctx.oidc.session;
    if (session?.accountId) session.acr = reportedAcr(session.amr ?? [], acrRequestOf(ctx.oidc.params as Record<string, unknown>));
  });

  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    deps.logger.error({ err: error, path: ctx.path }, 'oidc-provider server error');
  });
  // A sign-out at NetID (end_session) tells accounts by back-channel; one that was not told keeps its session.
  provider.on('backchannel.error', (_ctx: KoaContextWithOIDC, error: unknown, client: { clientId: string }) => {
    deps.logger.warn({ clientId: client.clientId, reason: reasonOf(error) }, 'back-channel logout not delivered');
  });

  // RFC 6749 5.2 names a grant type the client may not use `unauthorized_client`; oidc-provider says invalid_request.
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
    if (
      (ctx as KoaContextWithOIDC).oidc?.route === 'token' &&
      body?.error === 'invalid_request' &&
      body.error_description === 'requested grant type is not allowed for this client'
    ) {
      body.error = 'unauthorized_client';
    }
  });
  return provider;
}
