import type { Queries } from '../db/queries.js';
import type { ResourceServer } from '../db/resource-servers.js';
import type { ClientKind } from '../oidc/client-kind.js';
import { API_SCOPES } from './permissions.js';

/** The management API's resource indicator (RFC 8707): what a client asks tokens for. */
export const apiIdentifier = (issuer: string) => `${issuer}/api`;

/** Access tokens to the API are JWTs checked without a database round trip, so they live minutes only. */
const API_TOKEN_SECONDS = 5 * 60;

/** The API as a resource server row, so it is listed with the others. */
export function apiResourceServer(issuer: string): ResourceServer {
  return {
    identifier: apiIdentifier(issuer),
    name: 'NetID management API',
    scopes: [API_SCOPES.accountAdmin, API_SCOPES.operator],
    accessTokenFormat: 'jwt',
    signingAlg: 'ES256',
    accessTokenTtl: API_TOKEN_SECONDS,
    clientIds: [],
  };
}

/**
 * Which of the API's scopes a client may ask for. Any client may ask for
 * account:admin: an account's back end for its own account, any other for the
 * person who signs in (who must be an active admin of the account they act
 * on); only an operator's service client may ask for operator.
 */
export function apiScopesFor(kind: ClientKind): string {
  return kind === 'operator' ? `${API_SCOPES.operator} ${API_SCOPES.accountAdmin}` : API_SCOPES.accountAdmin;
}

/** Registers (or moves to ISSUER) the API's resource server row at start, as the network pages' client is. */
export async function registerApiResourceServer(queries: Queries, issuer: string): Promise<void> {
  const server = apiResourceServer(issuer);
  await queries.transaction(async (inner) => {
    if (await inner.resourceServers.find(server.identifier)) await inner.resourceServers.update(server);
    else await inner.resourceServers.insert(server);
  });
}
