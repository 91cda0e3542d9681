import type { ProviderSettings } from '../config/federation-environment.js';
import { openIdProvider } from './openid-connect.js';
import { cleanEmail, cleanText, splitName, type FederationProvider } from './provider.js';

/**
 * Any other OpenID Connect provider an operator configures
 * (FEDERATION_OIDC_<NAME>_*): the ID token's claims, completed from the
 * userinfo endpoint, where the provider has one, when the ID token has no
 * email or no name. The email counts as
 * confirmed only with `email_verified: true`.
 */
export function genericOpenIdProvider(settings: ProviderSettings, callbackUrl: string): FederationProvider {
  return openIdProvider(settings, callbackUrl, {
    server: settings.issuer!,
    scope: settings.scope ?? 'openid email profile',
    // A round trip less when the ID token already says everything NetID keeps.
    readUserinfo: (claims) => claims.email === undefined || (claims.given_name === undefined && claims.name === undefined),
    map: ({ claims, userinfo }) => {
      const said = { ...userinfo, ...claims };
      const fallback = splitName(said.name);
      return {
        provider: settings.id,
        issuer: claims.iss,
        subject: claims.sub,
        email: cleanEmail(said.email),
        emailVerified: said.email_verified === true,
        names: { first: cleanText(said.given_name) ?? fallback.first, last: cleanText(said.family_name) ?? fallback.last },
        photo: typeof said.picture === 'string' ? said.picture : undefined,
      };
    },
  });
}
