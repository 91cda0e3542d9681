import { errors, type Client, type KoaContextWithOIDC, type ResourceServer as ResourceServerInfo } from 'oidc-provider';
import { apiIdentifier, apiScopesFor } from '../api/api-resource-server.js';
import type { ResourceServer, ResourceServerQueries } from '../db/resource-servers.js';
import { clientKind } from './client-kind.js';

/**
 * oidc-provider's `getResourceServerInfo`: what a token to the resource
 * server named by `indicator` looks like, for a client it allows. Anything
 * else is RFC 8707's invalid_target, with the same words for an unknown
 * server and a forbidden one, so a client cannot probe which APIs exist.
 * NetID's own management API is open to every client, with the scopes its
 * kind may have (src/api/api-resource-server.ts); the API then decides per
 * route and account.
 */
export function resourceServerInfo(resourceServers: ResourceServerQueries, issuer: string) {
  const api = apiIdentifier(issuer);
  const info = (server: ResourceServer, scope: string): ResourceServerInfo => ({
    scope,
    audience: server.identifier,
    accessTokenTTL: server.accessTokenTtl,
    accessTokenFormat: server.accessTokenFormat,
    ...(server.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: server.signingAlg } } } : {}),
  });

  return async (_ctx: KoaContextWithOIDC, indicator: string, client: Client): Promise<ResourceServerInfo> => {
    const server = await resourceServers.find(indicator);
    if (server && indicator === api) return info(server, apiScopesFor(clientKind(client)));
    if (!server || !server.clientIds.includes(client.clientId)) {
      throw new errors.InvalidTarget('the resource is unknown or not open to this client');
    }
    return info(server, server.scopes.join(' '));
  };
}
