import type { ClientQueries } from '../db/clients.js';
import type { AccessTokenFormat, ResourceServer, ResourceServerQueries } from '../db/resource-servers.js';
import { SCOPE_CLAIMS } from '../oidc/claims.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../oidc/signing-keys.js';
import { ACCESS_TOKEN_LIFETIME } from '../oidc/token-lifetimes.js';

export interface ResourceServerRegistration {
  identifier: string;
  name: string;
  scopes: string[];
  clientIds?: string[];
  format?: string;
  alg?: string;
  /** Seconds; defaults by format, see DEFAULT_TTL. */
  ttl?: number;
}

/** A registration NetID refuses; the message names the field. */
export class ResourceServerError extends Error {
  override name = 'ResourceServerError';
}

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

/** RFC 8707 2: an absolute URI without a fragment; NetID also wants https (http on loopback) and no query. */
export function checkIdentifier(identifier: string): string {
  let url: URL;
  try {
    url = new URL(identifier);
  } catch {
    throw new ResourceServerError('--identifier must be an absolute URI such as https://api.example.com/');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new ResourceServerError('--identifier must use https (http only on localhost)');
  }
  if (identifier.includes('#')) throw new ResourceServerError('--identifier must not have a fragment (RFC 8707)');
  if (url.search) throw new ResourceServerError('--identifier must not have a query');
  // Relying parties send the indicator byte for byte; the stored one must be what they will send.
  if (url.href !== identifier && url.href !== `${identifier}/`) {
    throw new ResourceServerError(`--identifier is not in its normal form; use ${url.href}`);
  }
  return identifier;
}

function checkScopes(scopes: string[]): string[] {
  const unique = [...new Set(scopes.flatMap((scope) => scope.split(' ')).filter(Boolean))];
  if (!unique.length) throw new ResourceServerError('--scope is required: the scopes the resource server understands');
  for (const scope of unique) {
    if (!SCOPE_TOKEN.test(scope)) throw new ResourceServerError(`--scope "${scope}" has a character a scope may not have`);
    if (RESERVED_SCOPES.has(scope)) throw new ResourceServerError(`--scope "${scope}" is answered by NetID itself`);
  }
  return unique;
}

function checkTtl(ttl: number | undefined, format: AccessTokenFormat): number {
  if (ttl === undefined) return DEFAULT_TTL[format];
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400) throw new ResourceServerError('--ttl must be whole seconds between 60 and 86400');
  return ttl;
}

export async function checkClients(clients: ClientQueries, clientIds: string[]): Promise<string[]> {
  const unique = [...new Set(clientIds)];
  for (const clientId of unique) {
    if (!(await clients.findMetadata(clientId))) throw new ResourceServerError(`--client ${clientId} is not a registered client`);
  }
  return unique;
}

export async function registerResourceServer(
  queries: { resourceServers: ResourceServerQueries; clients: ClientQueries },
  registration: ResourceServerRegistration,
): Promise<ResourceServer> {
  const format = registration.format ?? 'jwt';
  if (!FORMATS.includes(format)) throw new ResourceServerError('--format must be jwt or opaque');
  const alg = registration.alg ?? 'RS256';
  if (!(SIGNING_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new ResourceServerError(`--alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
  }
  const name = registration.name.trim();
  if (!name) throw new ResourceServerError('--name is required');
  const identifier = checkIdentifier(registration.identifier);
  if (await queries.resourceServers.find(identifier)) throw new ResourceServerError(`${identifier} is already registered`);

  const server: ResourceServer = {
    identifier,
    name,
    scopes: checkScopes(registration.scopes),
    accessTokenFormat: format as AccessTokenFormat,
    signingAlg: alg as SigningAlgorithm,
    accessTokenTtl: checkTtl(registration.ttl, format as AccessTokenFormat),
    clientIds: await checkClients(queries.clients, registration.clientIds ?? []),
  };
  await queries.resourceServers.insert(server);
  return server;
}
