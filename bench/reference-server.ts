// The reference NetID is measured against: a bare oidc-provider with its
// default in-memory adapter, static clients, a fixed profile, and the same
// features, token formats and lifetimes as src/oidc/provider.ts. What NetID
// adds on top (database, Koa app around the provider, sign-in screen) is what
// the ratio shows. Prints one JSON line (ServerInfo) once it listens.
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../src/oidc/signing-keys.js';
import type { ServerInfo } from './target.js';
import { TOKEN_LIFETIMES } from '../src/oidc/token-lifetimes.js';
import { ACR, ACR_VALUES } from '../src/oidc/authentication-context.js';

const PERSON_ID = 'reference-person';

/** The key types NetID signs with (src/oidc/signing-keys.ts), one of each. */
function signingKeys(): JWK[] {
  const pairs: [string, KeyObject][] = [
    ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
    ['ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey],
    ['EdDSA', generateKeyPairSync('ed25519').privateKey],
  ];
  return pairs.map(([alg, key]) => ({ ...(key.export({ format: 'jwk' }) as JWK), alg, use: 'sig', kid: randomUUID() }));
}

function configuration(accountBase: string, secrets: { account: string; service: string }, accountIdTokenAlg: SigningAlgorithm): Configuration {
  return {
    jwks: { keys: signingKeys() } as Configuration['jwks'],
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: [
      {
        client_id: 'bench-account',
        client_secret: secrets.account,
        client_name: 'bench-account',
        client_uri: `${accountBase}/`,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [`${accountBase}/oauth/netid/callback`],
        initiate_login_uri: `${accountBase}/oauth/netid/login`,
        post_logout_redirect_uris: [`${accountBase}/`],
        backchannel_logout_uri: `${accountBase}/oauth/netid/backchannel-logout`,
        backchannel_logout_session_required: true,
        token_endpoint_auth_method: 'client_secret_basic',
        // As NetID's account client signs (bench/seed.ts reports it), or the ratio would compare signatures too.
        id_token_signed_response_alg: accountIdTokenAlg,
      },
      {
        client_id: 'bench-service',
        client_secret: secrets.service,
        client_name: 'bench-service',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],

    async findAccount(_ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            given_name: 'Ada',
            family_name: 'Admin',
            name: 'Ada Admin',
            email: 'admin@reference.test',
            email_verified: true,
            updated_at: 1_700_000_000,
          };
        },
      };
    },
    claims: {
      openid: ['sub', 'auth_time', 'acr', 'amr'],
      profile: ['given_name', 'family_name', 'name', 'picture', 'locale', 'updated_at'],
      email: ['email', 'email_verified'],
      phone: ['phone_number', 'phone_number_verified'],
      membership: ['membership'],
    },
    conformIdTokenClaims: false,
    acrValues: [...ACR_VALUES],

    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        async allowedPolicy(_ctx, client, token) {
          return token.clientId === client.clientId;
        },
      },
      revocation: {
        enabled: true,
        async allowedPolicy(_ctx, client, token) {
          return token.clientId === client.clientId;
        },
      },
      userinfo: { enabled: true },
      claimsParameter: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      dPoP: { enabled: true, nonceSecret: randomBytes(32) },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    responseTypes: ['code'],
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      userinfoSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      introspectionSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      authorizationSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    rotateRefreshToken: true,
    ttl: TOKEN_LIFETIMES,
  };
}

/**
 * The reference has no sign-in screen: whoever reaches the interaction is the
 * fixed person, signed in and consenting to every requested scope at once, so
 * a code flow costs only what oidc-provider itself does.
 */
function finishEveryInteraction(provider: Provider) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    if (ctx.method !== 'GET' || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const accountId = details.session?.accountId ?? PERSON_ID;
    const clientId = String(details.params.client_id);
    const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId, clientId });
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    const grantId = await grant.save();
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId, acr: ACR.oneFactor, amr: ['pwd'], remember: true }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    ctx.respond = false;
  };
}

async function main(): Promise<void> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accountBase = 'https://reference.bitrix24.test';
  const secrets = { account: randomBytes(32).toString('base64url'), service: randomBytes(32).toString('base64url') };

  const accountIdTokenAlg = SIGNING_ALGORITHMS.find((alg) => alg === process.env.BENCH_ACCOUNT_ID_TOKEN_ALG) ?? 'RS256';
  const provider = new Provider(issuer, configuration(accountBase, secrets, accountIdTokenAlg));
  provider.use(finishEveryInteraction(provider));
  provider.on('server_error', (_ctx: unknown, error: Error) => process.stderr.write(`reference server_error: ${error.stack}\n`));
  server.on('request', provider.callback());

  const info: ServerInfo = {
    kind: 'reference',
    label: 'reference',
    issuer,
    origins: [issuer],
    accountClient: { clientId: 'bench-account', clientSecret: secrets.account, redirectUri: `${accountBase}/oauth/netid/callback`, idTokenAlg: accountIdTokenAlg },
    serviceClient: { clientId: 'bench-service', clientSecret: secrets.service },
    people: [],
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench reference server failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
