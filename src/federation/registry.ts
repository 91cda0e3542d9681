import type { ProviderKind, ProviderSettings } from '../config/federation-environment.js';
import { appleProvider } from './apple.js';
import { facebookProvider } from './facebook.js';
import { genericOpenIdProvider } from './generic-oidc.js';
import { googleProvider } from './google.js';
import { markFor, type Mark } from './marks.js';
import { liveIdProvider, office365Provider } from './microsoft.js';
import type { FederationProvider } from './provider.js';
import { twitterProvider } from './twitter.js';

/** A configured provider, with the mark its buttons show. */
export interface RegisteredProvider extends FederationProvider {
  mark: Mark;
}

type ProviderModule = (settings: ProviderSettings, callbackUrl: string) => FederationProvider;

const MODULES: Record<ProviderKind, ProviderModule> = {
  google: googleProvider,
  apple: appleProvider,
  office365: office365Provider,
  liveid: liveIdProvider,
  facebook: facebookProvider,
  twitter: twitterProvider,
  oidc: genericOpenIdProvider,
};

/** The fixed address each provider sends its answers to; this is what is registered at the provider. */
export const callbackUrlFor = (issuer: string, providerId: string) => `${issuer}/federation/${providerId}/callback`;

export interface FederationRegistry {
  /** Every provider configured with credentials, in the order the sign-in screen shows them. */
  list(): readonly RegisteredProvider[];
  find(id: string): RegisteredProvider | undefined;
}

/**
 * The providers NetID offers: one module per provider (src/federation/<provider>.ts),
 * each made from its configuration. A provider without credentials is not
 * configured, so it is neither shown nor reachable.
 */
export function createFederationRegistry(settings: readonly ProviderSettings[], issuer: string): FederationRegistry {
  const providers = settings.map(
    (provider): RegisteredProvider => ({
      ...MODULES[provider.kind](provider, callbackUrlFor(issuer, provider.id)),
      mark: markFor(provider.kind, provider.displayName),
    }),
  );
  const byId = new Map(providers.map((provider) => [provider.id, provider]));
  return {
    list: () => providers,
    find: (id) => byId.get(id),
  };
}
