import type { Configuration } from 'oidc-provider';

const HOUR = 60 * 60;
const DAY = 24 * HOUR;

/** An access token's life unless its resource server sets one (src/db/resource-servers.ts). */
export const ACCESS_TOKEN_LIFETIME = HOUR;
const CLIENT_CREDENTIALS_LIFETIME = 10 * 60;

/** How long each thing NetID issues lives, in seconds (oidc-provider's `ttl`); the benchmark's reference uses the same. */
export const TOKEN_LIFETIMES: NonNullable<Configuration['ttl']> = {
  AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ACCESS_TOKEN_LIFETIME,
  AuthorizationCode: 60,
  ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? CLIENT_CREDENTIALS_LIFETIME,
  IdToken: HOUR,
  Interaction: HOUR,
  Grant: 30 * DAY,
  Session: 14 * DAY,
  // Public clients cannot keep a secret, so their refresh tokens live shorter (RFC 9700 4.14).
  RefreshToken: (_ctx, _token, client) => (client.clientAuthMethod === 'none' ? DAY : 30 * DAY),
  BackchannelAuthenticationRequest: 10 * 60,
  DeviceCode: 10 * 60,
};
