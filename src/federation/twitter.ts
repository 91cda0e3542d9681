import { Strategy as TwitterStrategy } from '@superfaceai/passport-twitter-oauth2';
import type { ProviderSettings } from '../config/federation-environment.js';
import { netidStateStore, oauth2Provider, verifyWith } from './oauth2.js';
import { cleanEmail, splitName, type FederationProvider } from './provider.js';

/**
 * X (Twitter) through @superfaceai/passport-twitter-oauth2: OAuth 2.0 with
 * PKCE and state, NetID as a confidential client. The email needs the
 * `users.email` scope and the `confirmed_email` field, and X sends it only
 * when the person has confirmed one, so present means confirmed. X gives one
 * display name, split at its first space.
 */
export function twitterProvider(settings: ProviderSettings, callbackUrl: string): FederationProvider {
  const profileUrl = new URL(settings.endpoints.userinfo ?? 'https://api.x.com/2/users/me');
  profileUrl.searchParams.set('user.fields', 'name,profile_image_url,confirmed_email');
  const strategy = new TwitterStrategy(
    {
      clientType: 'confidential',
      clientID: settings.clientId,
      clientSecret: settings.clientSecret!,
      callbackURL: callbackUrl,
      authorizationURL: settings.endpoints.authorization ?? 'https://x.com/i/oauth2/authorize',
      tokenURL: settings.endpoints.token ?? 'https://api.x.com/2/oauth2/token',
      userProfileURL: profileUrl.toString(),
      scope: (settings.scope ?? 'tweet.read users.email').split(/\s+/),
      store: netidStateStore as never,
      passReqToCallback: true,
    },
    verifyWith((json) => {
      const names = splitName(json.name);
      const email = cleanEmail(json.confirmed_email);
      return {
        provider: settings.id,
        issuer: 'https://x.com',
        subject: String(json.id ?? ''),
        email,
        emailVerified: email !== undefined,
        names,
        photo: typeof json.profile_image_url === 'string' ? json.profile_image_url : undefined,
      };
    }) as never,
  );
  return oauth2Provider(settings.id, settings.displayName, callbackUrl, strategy as never);
}
