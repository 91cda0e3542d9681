import type { ProviderSettings } from '../config/federation-environment.js';
import { openIdProvider } from './openid-connect.js';
import { cleanEmail, cleanText, type FederationProvider } from './provider.js';

/**
 * Google (OpenID Connect). Its ID token carries the email with
 * `email_verified`, the names and the picture; `sub` is the stable id.
 */
export function googleProvider(settings: ProviderSettings, callbackUrl: string): FederationProvider {
  return openIdProvider(settings, callbackUrl, {
    server: settings.issuer!,
    scope: settings.scope ?? 'openid email profile',
    map: ({ claims }) => ({
      provider: settings.id,
      issuer: claims.iss,
      subject: claims.sub,
      email: cleanEmail(claims.email),
      emailVerified: claims.email_verified === true,
      names: { first: cleanText(claims.given_name), last: cleanText(claims.family_name) },
      photo: typeof claims.picture === 'string' ? claims.picture : undefined,
    }),
  });
}
