import { generateKeyPairSync } from 'node:crypto';
import net from 'node:net';
import { importSPKI, jwtVerify } from 'jose';
import { startOAuth2StandIn, type OAuth2StandIn } from './oauth2-stand-in.js';
import { startOidcStandIn, type OidcStandIn } from './oidc-stand-in.js';

/** Microsoft's tenants as the stand-ins play them: one work tenant, and the tenant of every personal account. */
export const ORGANIZATION_TENANT = '6f1c1a52-2b6e-4c8e-9d4a-3a1b2c3d4e5f';
export const CONSUMERS_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

export const APPLE_TEAM_ID = 'TEAM123456';
export const APPLE_KEY_ID = 'KEY1234567';

export interface StandIns {
  google: OidcStandIn;
  apple: OidcStandIn;
  office365: OidcStandIn;
  liveid: OidcStandIn;
  /** A generic OpenID Connect provider, configured as FEDERATION_OIDC_ACME_*, whose ID tokens carry no more than `sub`: the rest is in userinfo. */
  acme: OidcStandIn;
  facebook: OAuth2StandIn;
  twitter: OAuth2StandIn;
  /** What NetID is started with to use them. */
  env: Record<string, string>;
  /** Every origin a browser is sent to during a round trip. */
  origins: string[];
  stop(): Promise<void>;
}

/** A free loopback port for NetID, chosen before it starts: the providers must know its callback addresses first. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A stand-in for every provider NetID offers, on loopback, and the
 * configuration that points NetID at them through the same variables an
 * operator sets for the real ones. Apple's stand-in is reached as
 * `localhost`, another site than NetID's 127.0.0.1, so its form_post answer
 * is a cross-site POST as Apple's is.
 */
export async function startStandIns(netidPort: number): Promise<StandIns> {
  const issuer = `http://127.0.0.1:${netidPort}`;
  const callback = (provider: string) => `${issuer}/federation/${provider}/callback`;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const applePublic = await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'ES256');

  const google = await startOidcStandIn({ clientId: 'google-client', clientSecret: 'google-secret', redirectUri: callback('google') });
  const apple = await startOidcStandIn({
    host: 'localhost',
    clientId: 'com.example.netid',
    clientSecret: 'registered-at-the-stand-in',
    redirectUri: callback('apple'),
    withoutIssParameter: true,
    postUserField: true,
    async checkClientSecret(secret) {
      try {
        const { protectedHeader } = await jwtVerify(secret, applePublic, { issuer: APPLE_TEAM_ID, subject: 'com.example.netid', audience: apple.issuer, algorithms: ['ES256'] });
        return protectedHeader.kid === APPLE_KEY_ID;
      } catch {
        return false;
      }
    },
  });
  const microsoft = (tenant: string, provider: string) =>
    startOidcStandIn({
      issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
      publishedIssuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
      withoutIssParameter: true,
      clientId: `${provider}-client`,
      clientSecret: `${provider}-secret`,
      redirectUri: callback(provider),
    });
  const office365 = await microsoft(ORGANIZATION_TENANT, 'office365');
  const liveid = await microsoft(CONSUMERS_TENANT, 'liveid');
  const acme = await startOidcStandIn({ clientId: 'acme-client', clientSecret: 'acme-secret', redirectUri: callback('acme'), claimsInUserinfoOnly: true });
  const facebook = await startOAuth2StandIn({ flavour: 'facebook', clientId: 'facebook-app', clientSecret: 'facebook-secret', redirectUri: callback('facebook') });
  const twitter = await startOAuth2StandIn({ flavour: 'twitter', clientId: 'twitter-client', clientSecret: 'twitter-secret', redirectUri: callback('twitter') });

  const env: Record<string, string> = {
    // The providers' photos are on loopback here.
    OUTGOING_PRIVATE_NETWORKS: 'allow',
    FEDERATION_GOOGLE_CLIENT_ID: 'google-client',
    FEDERATION_GOOGLE_CLIENT_SECRET: 'google-secret',
    FEDERATION_GOOGLE_ISSUER: google.issuer,
    FEDERATION_APPLE_CLIENT_ID: 'com.example.netid',
    FEDERATION_APPLE_TEAM_ID: APPLE_TEAM_ID,
    FEDERATION_APPLE_KEY_ID: APPLE_KEY_ID,
    FEDERATION_APPLE_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    FEDERATION_APPLE_ISSUER: apple.issuer,
    FEDERATION_OFFICE365_CLIENT_ID: 'office365-client',
    FEDERATION_OFFICE365_CLIENT_SECRET: 'office365-secret',
    FEDERATION_OFFICE365_DISCOVERY_URL: `${office365.serverOrigin}/.well-known/openid-configuration`,
    FEDERATION_LIVEID_CLIENT_ID: 'liveid-client',
    FEDERATION_LIVEID_CLIENT_SECRET: 'liveid-secret',
    FEDERATION_LIVEID_DISCOVERY_URL: `${liveid.serverOrigin}/.well-known/openid-configuration`,
    FEDERATION_FACEBOOK_APP_ID: 'facebook-app',
    FEDERATION_FACEBOOK_APP_SECRET: 'facebook-secret',
    FEDERATION_FACEBOOK_AUTHORIZATION_URL: `${facebook.origin}/authorize`,
    FEDERATION_FACEBOOK_TOKEN_URL: `${facebook.origin}/token`,
    FEDERATION_FACEBOOK_PROFILE_URL: `${facebook.origin}/me`,
    FEDERATION_TWITTER_CLIENT_ID: 'twitter-client',
    FEDERATION_TWITTER_CLIENT_SECRET: 'twitter-secret',
    FEDERATION_TWITTER_AUTHORIZATION_URL: `${twitter.origin}/authorize`,
    FEDERATION_TWITTER_TOKEN_URL: `${twitter.origin}/token`,
    FEDERATION_TWITTER_PROFILE_URL: `${twitter.origin}/me`,
    FEDERATION_OIDC_ACME_ISSUER: acme.issuer,
    FEDERATION_OIDC_ACME_CLIENT_ID: 'acme-client',
    FEDERATION_OIDC_ACME_CLIENT_SECRET: 'acme-secret',
    FEDERATION_OIDC_ACME_DISPLAY_NAME: 'Acme ID',
  };
  const all = [google, apple, office365, liveid, acme, facebook, twitter];
  return {
    google,
    apple,
    office365,
    liveid,
    acme,
    facebook,
    twitter,
    env,
    origins: [issuer, ...new Set([google, apple, office365, liveid, acme].flatMap((s) => [s.browserOrigin, s.serverOrigin])), facebook.origin, twitter.origin],
    async stop() {
      await Promise.all(all.map((standIn) => standIn.stop()));
    },
  };
}
