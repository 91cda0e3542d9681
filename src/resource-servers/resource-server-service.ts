import type { Actor } from '../db/audit.js';
import type { Queries } from '../db/queries.js';
import type { AccessTokenFormat, ResourceServer } from '../db/resource-servers.js';
import { SCOPE_CLAIMS } from '../oidc/claims.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../oidc/signing-keys.js';
import { ACCESS_TOKEN_LIFETIME } from '../oidc/token-lifetimes.js';
import { ok, refuse, type Outcome, type ProblemTable, type Refusal } from '../outcome.js';

export interface ResourceServerRegistration {
  identifier: string;
  name: string;
  scopes: string[];
  clientIds?: string[] | undefined;
  format?: string | undefined;
  alg?: string | undefined;
  /** Seconds; defaults by format, see DEFAULT_TTL. */
  ttl?: number | undefined;
}

export type ResourceServerProblem = 'resource-server-invalid' | 'resource-server-exists' | 'resource-server-not-found' | 'resource-server-built-in';

export const RESOURCE_SERVER_PROBLEMS: ProblemTable<ResourceServerProblem> = {
  'resource-server-invalid': { status: 400, messageKey: 'problem.resource_server_invalid' },
  'resource-server-exists': { status: 409, messageKey: 'problem.resource_server_exists' },
  'resource-server-not-found': { status: 404, messageKey: 'problem.resource_server_not_found' },
  'resource-server-built-in': { status: 409, messageKey: 'problem.resource_server_built_in' },
};

/**
 * A JWT access token is checked by the resource server alone, so revoking it
 * or ending the grant cannot stop it: it lives minutes. An opaque one is
 * checked by introspection on every call and lives as long as any other.
 */
export const DEFAULT_TTL: Record<AccessTokenFormat, number> = { jwt: 5 * 60, opaque: ACCESS_TOKEN_LIFETIME };

const FORMATS: readonly string[] = ['jwt', 'opaque'] satisfies AccessTokenFormat[];
// RFC 6749 3.3 scope-token: printable ASCII except space, double quote and backslash.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
// Scopes NetID itself answers; a resource server cannot take them over.
const RESERVED_SCOPES = new Set([...Object.keys(SCOPE_CLAIMS), 'offline_access', 'address']);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const invalid = (field: string, detail: string): Refusal<'resource-server-invalid'> => refuse('resource-server-invalid', { field, detail });

/** RFC 8707 2: an absolute URI without a fragment; NetID also wants https (http on loopback) and no query. */
export function checkIdentifier(identifier: string): Refusal<'resource-server-invalid'> | undefined {
  let url: URL;
  try {
    url = new URL(identifier);
  } catch {
    return invalid('identifier', 'must be an absolute URI such as https://api.example.com/');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    return invalid('identifier', 'must use https (http only on localhost)');
  }
  if (identifier.includes('#')) return invalid('identifier', 'must not have a fragment (RFC 8707)');
  if (url.search) return invalid('identifier', 'must not have a query');
  // Relying parties send the indicator byte for byte; the stored one must be what they will send.
  if (url.href !== identifier && url.href !== `${identifier}/`) return invalid('identifier', `is not in its normal form; use ${url.href}`);
  return undefined;
}

function checkScopes(scopes: string[]): Outcome<{ scopes: string[] }, 'resource-server-invalid'> {
  const unique = [...new Set(scopes.flatMap((scope) => scope.split(' ')).filter(Boolean))];
  if (!unique.length) return invalid('scope', 'is required: the scopes the resource server understands');
  for (const scope of unique) {
    if (!SCOPE_TOKEN.test(scope)) return invalid('scope', `"${scope}" has a character a scope may not have`);
    if (RESERVED_SCOPES.has(scope)) return invalid('scope', `"${scope}" is answered by NetID itself`);
  }
  return ok({ scopes: unique });
}

function checkTtl(ttl: number | undefined, format: AccessTokenFormat): Outcome<{ ttl: number }, 'resource-server-invalid'> {
  if (ttl === undefined) return ok({ ttl: DEFAULT_TTL[format] });
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400) return invalid('ttl', 'must be whole seconds between 60 and 86400');
  return ok({ ttl });
}

async function checkClients(queries: Queries, clientIds: string[]): Promise<Outcome<{ clientIds: string[] }, 'resource-server-invalid'>> {
  const unique = [...new Set(clientIds)];
  for (const clientId of unique) {
    if (!(await queries.clients.find(clientId))) return invalid('client', `${clientId} is not a registered client`);
  }
  return ok({ clientIds: unique });
}

type Settings = Omit<ResourceServer, 'identifier' | 'clientIds'>;

/** Everything of a registration but the identifier and the clients, checked. */
function checkSettings(input: Omit<ResourceServerRegistration, 'identifier' | 'clientIds'>): Outcome<{ settings: Settings }, 'resource-server-invalid'> {
  const format = input.format ?? 'jwt';
  if (!FORMATS.includes(format)) return invalid('format', 'must be jwt or opaque');
  const alg = input.alg ?? 'RS256';
  if (!(SIGNING_ALGORITHMS as readonly string[]).includes(alg)) return invalid('alg', `must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
  const name = input.name.trim();
  if (!name || name.length > 200) return invalid('name', 'is required, at most 200 characters');
  const scopes = checkScopes(input.scopes);
  if (!scopes.ok) return scopes;
  const ttl = checkTtl(input.ttl, format as AccessTokenFormat);
  if (!ttl.ok) return ttl;
  return ok({
    settings: { name, scopes: scopes.scopes, accessTokenFormat: format as AccessTokenFormat, signingAlg: alg as SigningAlgorithm, accessTokenTtl: ttl.ttl },
  });
}

/**
 * Resource servers: the APIs that accept NetID's access tokens (RFC 8707,
 * RFC 9068). Registrations and newly allowed clients reach every instance's
 * cache within a second. `builtIn` are NetID's own (its management API),
 * which NetID registers from ISSUER at every start and whose tokens follow
 * its own rules: they are listed and read like the others, never changed or
 * removed, since any change would either be undone at the next start or cut
 * every operator and account back end off the API.
 */
export function createResourceServerService(deps: { queries: Queries; builtIn: readonly string[] }) {
  const builtIn = (identifier: string): Refusal<'resource-server-built-in'> | undefined =>
    deps.builtIn.includes(identifier) ? refuse('resource-server-built-in', { detail: `${identifier} is NetID's own and cannot be changed or removed` }) : undefined;

  return {
    list: () => deps.queries.resourceServers.list(),

    async read(identifier: string): Promise<Outcome<{ server: ResourceServer }, 'resource-server-not-found'>> {
      const server = await deps.queries.resourceServers.find(identifier);
      return server ? ok({ server }) : refuse('resource-server-not-found');
    },

    async register(registration: ResourceServerRegistration, actor: Actor): Promise<Outcome<{ server: ResourceServer }, ResourceServerProblem>> {
      const identifierProblem = checkIdentifier(registration.identifier) ?? builtIn(registration.identifier);
      if (identifierProblem) return identifierProblem;
      const checked = checkSettings(registration);
      if (!checked.ok) return checked;
      return deps.queries.transaction(async (queries) => {
        if (await queries.resourceServers.find(registration.identifier)) {
          return refuse('resource-server-exists', { field: 'identifier', detail: `${registration.identifier} is already registered` });
        }
        const clients = await checkClients(queries, registration.clientIds ?? []);
        if (!clients.ok) return clients;
        const server: ResourceServer = { identifier: registration.identifier, ...checked.settings, clientIds: clients.clientIds };
        await queries.resourceServers.insert(server);
        await queries.audit.record({ kind: 'resource_server.registered', actor, detail: { identifier: server.identifier, clients: server.clientIds } });
        return ok({ server });
      });
    },

    /** Changes a server's name, scopes and token settings; what is not given stays. */
    async update(
      identifier: string,
      changes: Partial<Omit<ResourceServerRegistration, 'identifier' | 'clientIds'>>,
      actor: Actor,
    ): Promise<Outcome<{ server: ResourceServer }, ResourceServerProblem>> {
      return deps.queries.transaction(async (queries) => {
        const current = await queries.resourceServers.find(identifier);
        if (!current) return refuse('resource-server-not-found');
        const own = builtIn(identifier);
        if (own) return own;
        const formatChanges = changes.format !== undefined && changes.format !== current.accessTokenFormat;
        const checked = checkSettings({
          name: changes.name ?? current.name,
          scopes: changes.scopes ?? current.scopes,
          format: changes.format ?? current.accessTokenFormat,
          alg: changes.alg ?? current.signingAlg,
          // A new format without a lifetime takes that format's default.
          ttl: changes.ttl ?? (formatChanges ? undefined : current.accessTokenTtl),
        });
        if (!checked.ok) return checked;
        await queries.resourceServers.update({ identifier, ...checked.settings });
        await queries.audit.record({ kind: 'resource_server.updated', actor, detail: { identifier } });
        return ok({ server: (await queries.resourceServers.find(identifier))! });
      });
    },

    /** Lets more clients ask for tokens to the server. */
    async allow(identifier: string, clientIds: string[], actor: Actor): Promise<Outcome<{ server: ResourceServer }, ResourceServerProblem>> {
      return deps.queries.transaction(async (queries) => {
        if (!(await queries.resourceServers.find(identifier))) return refuse('resource-server-not-found');
        const own = builtIn(identifier);
        if (own) return own;
        const clients = await checkClients(queries, clientIds);
        if (!clients.ok) return clients;
        if (!clients.clientIds.length) return invalid('client', 'is required: the clients to allow');
        for (const clientId of clients.clientIds) {
          if (await queries.resourceServers.allowClient(identifier, clientId)) {
            await queries.audit.record({ kind: 'resource_server.client_allowed', clientId, actor, detail: { identifier } });
          }
        }
        return ok({ server: (await queries.resourceServers.find(identifier))! });
      });
    },

    /** Stops clients from asking for tokens to the server; tokens already issued run out on their own. */
    async disallow(identifier: string, clientIds: string[], actor: Actor): Promise<Outcome<{ server: ResourceServer }, ResourceServerProblem>> {
      return deps.queries.transaction(async (queries) => {
        if (!(await queries.resourceServers.find(identifier))) return refuse('resource-server-not-found');
        const own = builtIn(identifier);
        if (own) return own;
        for (const clientId of new Set(clientIds)) {
          if (await queries.resourceServers.disallowClient(identifier, clientId)) {
            await queries.audit.record({ kind: 'resource_server.client_disallowed', clientId, actor, detail: { identifier } });
          }
        }
        return ok({ server: (await queries.resourceServers.find(identifier))! });
      });
    },

    async remove(identifier: string, actor: Actor): Promise<Outcome<object, 'resource-server-not-found' | 'resource-server-built-in'>> {
      const own = builtIn(identifier);
      if (own) return own;
      return deps.queries.transaction(async (queries) => {
        if (!(await queries.resourceServers.remove(identifier))) return refuse('resource-server-not-found');
        await queries.audit.record({ kind: 'resource_server.removed', actor, detail: { identifier } });
        return ok({});
      });
    },
  };
}

export type ResourceServerService = ReturnType<typeof createResourceServerService>;
