import { errors, type Client, type KoaContextWithOIDC, type ResourceServer as ResourceServerInfo } from 'oidc-provider';
import type { ResourceServerQueries } from '../db/resource-servers.js';

/**
 * oidc-provider's `getResourceServerInfo`: what a token to the resource
 * server named by `indicator` looks like, for a client it allows. Anything
 * else is RFC 8707's invalid_target, with the same words for an unknown
 * server and a forbidden one, so a client cannot probe which APIs exist.
 */
export function resourceServerInfo(resourceServers: ResourceServerQueries) {
  return async (_ctx: KoaContextWithOIDC, indicator: string, client: Client): Promise<ResourceServerInfo> => {
    const server = await resourceServers.find(indicator);
    if (!server || !server.clientIds.includes(client.clientId)) {
      throw new errors.InvalidTarget('the resource is unknown or not open to this client');
    }
    return {
      scope: server.scopes.join(' '),
      audience: server.identifier,
      accessTokenTTL: server.accessTokenTtl,
      accessTokenFormat: server.accessTokenFormat,
      ...(server.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: server.signingAlg } } } : {}),
    };
  };
}
