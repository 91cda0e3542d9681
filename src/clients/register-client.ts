import { randomBytes, randomUUID } from 'node:crypto';
import type { ClientMetadata, ClientQueries } from '../db/clients.js';
import type { Database } from '../db/database.js';

export interface ClientRegistration {
  name: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  grantTypes?: string[];
  /** A public client (no secret, PKCE required), such as a single-page or native app. */
  isPublic?: boolean;
  /** Skips the consent page: for apps the operator runs. */
  firstParty?: boolean;
  backchannelLogoutUri?: string;
  clientId?: string;
  extra?: Partial<ClientMetadata>;
}

export interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
  metadata: ClientMetadata;
}

/** Checks metadata the way oidc-provider will read it; throws an error that names the field. */
export type ClientMetadataValidator = (metadata: ClientMetadata & { client_secret?: string }) => Promise<void>;

export function newClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function clientMetadata(registration: ClientRegistration, clientId: string): ClientMetadata {
  const grantTypes = registration.grantTypes ?? ['authorization_code', 'refresh_token'];
  const usesRedirects = grantTypes.includes('authorization_code');
  return {
    client_id: clientId,
    client_name: registration.name,
    grant_types: grantTypes,
    response_types: usesRedirects ? ['code'] : [],
    redirect_uris: usesRedirects ? (registration.redirectUris ?? []) : [],
    ...(registration.postLogoutRedirectUris?.length
      ? { post_logout_redirect_uris: registration.postLogoutRedirectUris }
      : {}),
    ...(registration.backchannelLogoutUri ? { backchannel_logout_uri: registration.backchannelLogoutUri } : {}),
    token_endpoint_auth_method: registration.isPublic ? 'none' : 'client_secret_basic',
    ...registration.extra,
  };
}

export async function registerClient(
  db: Database,
  clients: ClientQueries,
  validate: ClientMetadataValidator,
  registration: ClientRegistration,
  options: { accountId?: string; trx?: Database } = {},
): Promise<RegisteredClient> {
  const clientId = registration.clientId ?? randomUUID();
  const metadata = clientMetadata(registration, clientId);
  const clientSecret = registration.isPublic ? undefined : newClientSecret();
  await validate({ ...metadata, ...(clientSecret ? { client_secret: clientSecret } : {}) });
  await clients.insert(
    { metadata, clientSecret, accountId: options.accountId ?? null, firstParty: registration.firstParty ?? false },
    options.trx ?? db,
  );
  return { clientId, clientSecret, metadata };
}
