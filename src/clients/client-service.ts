import { randomBytes, randomUUID } from 'node:crypto';
import type { Actor } from '../db/audit.js';
import type { ClientMetadata, StoredClient } from '../db/clients.js';
import type { Page } from '../db/profiles.js';
import type { Queries } from '../db/queries.js';
import type { ClientKind } from '../oidc/client-kind.js';
import { ok, refuse, type Outcome, type ProblemTable } from '../outcome.js';

export interface ClientRegistration {
  name: string;
  redirectUris?: string[] | undefined;
  postLogoutRedirectUris?: string[] | undefined;
  grantTypes?: string[] | undefined;
  /** A public client (no secret, PKCE required), such as a single-page or native app. */
  isPublic?: boolean | undefined;
  /** Skips the consent page: for apps the operator runs. */
  firstParty?: boolean | undefined;
  /** An operator's service: with client_credentials it may call the management API as an operator. */
  operator?: boolean | undefined;
  backchannelLogoutUri?: string | undefined;
  clientId?: string | undefined;
  extra?: Partial<ClientMetadata> | undefined;
}

export interface RegisteredClient {
  clientId: string;
  clientSecret?: string | undefined;
  metadata: ClientMetadata;
}

/** A client as operators see it: its metadata and kind, never its secret. */
export interface ClientView {
  clientId: string;
  accountId: string | null;
  firstParty: boolean;
  metadata: ClientMetadata;
  createdAt: Date;
  updatedAt: Date;
}

/** Checks metadata the way oidc-provider will read it; throws an error whose message names the field. */
export type ClientMetadataValidator = (metadata: ClientMetadata & { client_secret?: string }) => Promise<void>;

export type ClientProblem =
  | 'client-not-found'
  | 'client-metadata-invalid'
  | 'client-belongs-to-account'
  | 'client-is-public'
  | 'client-built-in'
  | 'secret-grace-invalid';

export const CLIENT_PROBLEMS: ProblemTable<ClientProblem> = {
  'client-not-found': { status: 404, messageKey: 'problem.client_not_found' },
  'client-metadata-invalid': { status: 400, messageKey: 'problem.client_metadata_invalid' },
  'client-belongs-to-account': { status: 409, messageKey: 'problem.client_belongs_to_account' },
  'client-is-public': { status: 409, messageKey: 'problem.client_is_public' },
  'client-built-in': { status: 409, messageKey: 'problem.client_built_in' },
  'secret-grace-invalid': { status: 400, messageKey: 'problem.secret_grace_invalid' },
};

/** Which clients a list holds, by NetID's kinds (src/oidc/client-kind.ts). */
export interface ClientFilter {
  kind?: ClientKind | undefined;
}

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
    ...(registration.postLogoutRedirectUris?.length ? { post_logout_redirect_uris: registration.postLogoutRedirectUris } : {}),
    ...(registration.backchannelLogoutUri ? { backchannel_logout_uri: registration.backchannelLogoutUri } : {}),
    token_endpoint_auth_method: registration.isPublic ? 'none' : 'client_secret_basic',
    ...(registration.operator ? { netid_operator: true } : {}),
    ...registration.extra,
  };
}

const view = (row: StoredClient): ClientView => ({
  clientId: row.client_id,
  accountId: row.account_id,
  firstParty: row.first_party,
  metadata: row.metadata,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** What oidc-provider says is wrong with metadata, or undefined when it takes it. */
async function metadataProblem(validate: ClientMetadataValidator, metadata: ClientMetadata, secret?: string): Promise<string | undefined> {
  try {
    await validate({ ...metadata, ...(secret ? { client_secret: secret } : {}) });
    return undefined;
  } catch (error) {
    return (error as { error_description?: string }).error_description ?? (error as Error).message;
  }
}

/** How long a rotated-away secret keeps working by default, so every instance of the client can move to the new one. */
export const DEFAULT_SECRET_GRACE_SECONDS = 24 * 60 * 60;
/** The longest a rotated-away secret may keep working: a rotation is meant to end the old secret's use. */
export const MAX_SECRET_GRACE_SECONDS = 30 * 24 * 60 * 60;

/** Metadata the registration's own fields make (clientMetadata); an update makes these again and keeps the rest. */
const REGISTERED_FIELDS = [
  'client_name',
  'grant_types',
  'response_types',
  'redirect_uris',
  'post_logout_redirect_uris',
  'backchannel_logout_uri',
  'token_endpoint_auth_method',
  'netid_operator',
];

/** A client's metadata without what its registration makes, so that an update keeps the rest as it was. */
function otherMetadata(metadata: ClientMetadata): Partial<ClientMetadata> {
  return Object.fromEntries(Object.entries(metadata).filter(([name]) => !REGISTERED_FIELDS.includes(name)));
}

/**
 * Clients: the relying parties NetID issues tokens to. Accounts' own clients
 * are made and moved with their account (account-service.ts); these rules are
 * for the clients operators register. `builtIn` are NetID's own (the network
 * pages' client), which NetID registers from ISSUER at every start and its
 * pages cannot work without: they are listed and read, never changed here.
 */
export function createClientService(deps: { queries: Queries; validateClient: ClientMetadataValidator; builtIn?: readonly string[] | undefined }) {
  const { validateClient } = deps;
  const isBuiltIn = (clientId: string) => deps.builtIn?.includes(clientId) ?? false;

  /** Registers a client in `queries`' transaction, if any; its secret is returned once and stored sealed. */
  async function register(
    queries: Queries,
    registration: ClientRegistration,
    actor: Actor,
    options: { accountId?: string } = {},
  ): Promise<Outcome<RegisteredClient, 'client-metadata-invalid'>> {
    const clientId = registration.clientId ?? randomUUID();
    const metadata = clientMetadata(registration, clientId);
    const clientSecret = registration.isPublic ? undefined : newClientSecret();
    const problem = await metadataProblem(validateClient, metadata, clientSecret);
    if (problem) return refuse('client-metadata-invalid', { detail: problem });
    await queries.clients.insert({ metadata, clientSecret, accountId: options.accountId ?? null, firstParty: registration.firstParty ?? false });
    await queries.audit.record({ kind: 'client.registered', clientId, accountId: options.accountId ?? null, actor });
    return ok({ clientId, clientSecret, metadata });
  }

  return {
    register: (registration: ClientRegistration, actor: Actor) => deps.queries.transaction((queries) => register(queries, registration, actor)),

    /** For rules that register a client as part of a larger change (an account's). */
    registerIn: register,

    async list(filter: ClientFilter, page: { limit: number; after?: string | undefined }): Promise<Page<ClientView>> {
      const found = await deps.queries.clients.list(filter, page);
      return { items: found.items.map(view), next: found.next };
    },

    async read(clientId: string): Promise<Outcome<{ client: ClientView }, 'client-not-found'>> {
      const row = await deps.queries.clients.find(clientId);
      return row ? ok({ client: view(row) }) : refuse('client-not-found');
    },

    /**
     * Changes an operator's client: what is given replaces what it had (null
     * removes the back-channel logout URI), the rest of its metadata stays,
     * and the whole is checked again as oidc-provider will read it.
     */
    async update(
      clientId: string,
      changes: {
        registration: Partial<Omit<ClientRegistration, 'backchannelLogoutUri'>> & { backchannelLogoutUri?: string | null | undefined };
        firstParty?: boolean | undefined;
      },
      actor: Actor,
    ): Promise<Outcome<{ client: ClientView }, 'client-not-found' | 'client-belongs-to-account' | 'client-built-in' | 'client-metadata-invalid'>> {
      return deps.queries.transaction(async (queries) => {
        const row = await queries.clients.find(clientId);
        if (!row) return refuse('client-not-found');
        if (row.account_id) return refuse('client-belongs-to-account');
        if (isBuiltIn(clientId)) return refuse('client-built-in');
        const current = row.metadata;
        const { backchannelLogoutUri } = changes.registration;
        const merged = clientMetadata(
          {
            name: changes.registration.name ?? String(current.client_name ?? ''),
            redirectUris: changes.registration.redirectUris ?? (current.redirect_uris as string[] | undefined),
            postLogoutRedirectUris: changes.registration.postLogoutRedirectUris ?? (current.post_logout_redirect_uris as string[] | undefined),
            grantTypes: changes.registration.grantTypes ?? (current.grant_types as string[] | undefined),
            isPublic: current.token_endpoint_auth_method === 'none',
            operator: changes.registration.operator ?? current.netid_operator === true,
            backchannelLogoutUri: backchannelLogoutUri === null ? undefined : (backchannelLogoutUri ?? (current.backchannel_logout_uri as string | undefined)),
            extra: otherMetadata(current),
          },
          clientId,
        );
        const secret = (await queries.clients.findMetadata(clientId))?.client_secret as string | undefined;
        const problem = await metadataProblem(validateClient, merged, secret);
        if (problem) return refuse('client-metadata-invalid', { detail: problem });
        await queries.clients.updateMetadata(clientId, merged);
        if (changes.firstParty !== undefined) await queries.clients.setFirstParty(clientId, changes.firstParty);
        await queries.audit.record({ kind: 'client.updated', clientId, actor });
        return ok({ client: view((await queries.clients.find(clientId))!) });
      });
    },

    /** Deletes an operator's client with every grant and token it holds. */
    async delete(clientId: string, actor: Actor): Promise<Outcome<object, 'client-not-found' | 'client-belongs-to-account' | 'client-built-in'>> {
      return deps.queries.transaction(async (queries) => {
        const row = await queries.clients.find(clientId);
        if (!row) return refuse('client-not-found');
        if (row.account_id) return refuse('client-belongs-to-account');
        if (isBuiltIn(clientId)) return refuse('client-built-in');
        await queries.sessions.revokeClientGrants(clientId);
        await queries.clients.delete(clientId);
        await queries.audit.record({ kind: 'client.deleted', clientId, actor });
        return ok({});
      });
    },

    /**
     * A new secret, shown once; the old one keeps working for `graceSeconds`
     * (0: at once no more), so the client's instances can move over without a
     * moment where none of them can authenticate.
     */
    async rotateSecret(
      clientId: string,
      graceSeconds: number,
      actor: Actor,
    ): Promise<Outcome<{ clientSecret: string; previousSecretExpiresAt: Date | null }, 'client-not-found' | 'client-is-public' | 'secret-grace-invalid'>> {
      if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_SECRET_GRACE_SECONDS) {
        return refuse('secret-grace-invalid', { detail: `the grace must be whole seconds from 0 to ${MAX_SECRET_GRACE_SECONDS}` });
      }
      return deps.queries.transaction(async (queries) => {
        const row = await queries.clients.find(clientId);
        if (!row) return refuse('client-not-found');
        if (!row.client_secret_sealed) return refuse('client-is-public');
        const clientSecret = newClientSecret();
        const previousSecretExpiresAt = graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null;
        await queries.clients.replaceSecret(clientId, clientSecret, previousSecretExpiresAt ?? undefined);
        await queries.audit.record({ kind: 'client.secret_rotated', clientId, accountId: row.account_id, actor, detail: { graceSeconds } });
        return ok({ clientSecret, previousSecretExpiresAt });
      });
    },
  };
}

export type ClientService = ReturnType<typeof createClientService>;
