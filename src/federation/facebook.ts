import { Strategy as FacebookStrategy } from 'passport-facebook';
import type { ProviderSettings } from '../config/federation-environment.js';
import { netidStateStore, oauth2Provider, verifyWith } from './oauth2.js';
import { cleanEmail, cleanText, type FederationProvider } from './provider.js';

const GRAPH_VERSION = 'v21.0';

/**
 * Facebook Login through passport-facebook: state and PKCE (Facebook documents
 * it for manually built flows; FEDERATION_FACEBOOK_PKCE=false turns it off),
 * the profile read from the Graph API with appsecret_proof. Facebook returns
 * an email only when the person has one it considers valid, but says nothing
 * about having confirmed it, so NetID confirms it itself.
 */
export function facebookProvider(settings: ProviderSettings, callbackUrl: string): FederationProvider {
  const strategy = new FacebookStrategy(
    {
      clientID: settings.clientId,
      clientSecret: settings.clientSecret!,
      callbackURL: callbackUrl,
      graphAPIVersion: GRAPH_VERSION,
      authorizationURL: settings.endpoints.authorization ?? `https://www.facebook.com/${GRAPH_VERSION}/dialog/oauth`,
      tokenURL: settings.endpoints.token ?? `https://graph.facebook.com/${GRAPH_VERSION}/oauth/access_token`,
      profileURL: settings.endpoints.userinfo ?? `https://graph.facebook.com/${GRAPH_VERSION}/me`,
      profileFields: ['id', 'first_name', 'last_name', 'email', 'picture.type(large)'],
      enableProof: true,
      scope: (settings.scope ?? 'email public_profile').split(/[\s,]+/),
      store: netidStateStore as never,
      pkce: settings.pkce,
      state: true,
      passReqToCallback: true,
    },
    verifyWith((json) => {
      const picture = (json.picture as { data?: { url?: unknown; is_silhouette?: unknown } } | undefined)?.data;
      return {
        provider: settings.id,
        issuer: 'https://www.facebook.com',
        subject: String(json.id ?? ''),
        email: cleanEmail(json.email),
        emailVerified: false,
        names: { first: cleanText(json.first_name), last: cleanText(json.last_name) },
        photo: picture && picture.is_silhouette !== true && typeof picture.url === 'string' ? picture.url : undefined,
      };
    }) as never,
  );
  return oauth2Provider(settings.id, settings.displayName, callbackUrl, strategy as never);
}
