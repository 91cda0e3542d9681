import type { Configuration } from 'oidc-provider';

const HOUR = 60 * 60;
const DAY = 24 * HOUR;

/** How long each thing NetID issues lives, in seconds (oidc-provider's `ttl`); the benchmark's reference uses the same. */
export const TOKEN_LIFETIMES: NonNullable<Configuration['ttl']> = {
  AccessToken: HOUR,
  AuthorizationCode: 60,
  ClientCredentials: 10 * 60,
  IdToken: HOUR,
  Interaction: HOUR,
  Grant: 30 * DAY,
  Session: 14 * DAY,
  // Public clients cannot keep a secret, so their refresh tokens live shorter (RFC 9700 4.14).
  RefreshToken: (_ctx, _token, client) => (client.clientAuthMethod === 'none' ? DAY : 30 * DAY),
  BackchannelAuthenticationRequest: 10 * 60,
  DeviceCode: 10 * 60,
};
