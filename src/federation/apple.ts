import type { ProviderSettings } from '../config/federation-environment.js';
import { appleClientSecret } from './apple-client-secret.js';
import { openIdProvider } from './openid-connect.js';
import { cleanEmail, cleanText, type FederationProvider } from './provider.js';

/** The `user` form field Apple posts at the first consent only: `{"name":{"firstName","lastName"},"email"}`. */
function namesFromUserField(user: string | undefined): { first?: string | undefined; last?: string | undefined } {
  if (!user) return {};
  try {
    const parsed = JSON.parse(user) as { name?: { firstName?: unknown; lastName?: unknown } };
    return { first: cleanText(parsed.name?.firstName), last: cleanText(parsed.name?.lastName) };
  } catch {
    return {};
  }
}

/**
 * Sign in with Apple (OpenID Connect). Apple answers with
 * `response_mode=form_post`, a cross-site POST that carries none of NetID's
 * SameSite=Lax cookies (see src/federation/callback-router.ts for how it
 * reaches the sign-in anyway), authenticates NetID with a client secret NetID
 * signs itself (apple-client-secret.ts), and gives the person's name only at
 * their first consent, in the posted `user` field. The ID token says
 * `email_verified` as a boolean or the string "true"; a relay address
 * (Hide My Email) is verified too, and is what NetID keeps.
 */
export function appleProvider(settings: ProviderSettings, callbackUrl: string): FederationProvider {
  const apple = settings.apple!;
  const secret = appleClientSecret({ ...apple, clientId: settings.clientId, audience: settings.issuer! });
  return openIdProvider(settings, callbackUrl, {
    server: settings.issuer!,
    scope: settings.scope ?? 'openid name email',
    authorizationParameters: { response_mode: 'form_post' },
    clientAuthentication: (_server, client, body) => {
      body.set('client_id', client.client_id);
      body.set('client_secret', secret.current());
    },
    beforeTokenRequest: () => secret.renew(),
    map: ({ claims, form }) => ({
      provider: settings.id,
      issuer: claims.iss,
      subject: claims.sub,
      email: cleanEmail(claims.email),
      emailVerified: claims.email_verified === true || claims.email_verified === 'true',
      names: namesFromUserField(form?.user),
    }),
  });
}
