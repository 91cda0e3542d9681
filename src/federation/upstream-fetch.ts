import type { CustomFetch } from 'openid-client';
import type { EndpointName } from '../config/federation-environment.js';

/** The discovery document's member for each endpoint an operator may move (RFC 8414, OpenID Connect Discovery 3). */
const MEMBERS: Record<Exclude<EndpointName, 'discovery'>, string> = {
  authorization: 'authorization_endpoint',
  token: 'token_endpoint',
  userinfo: 'userinfo_endpoint',
  jwks: 'jwks_uri',
};

/**
 * The fetch openid-client uses for one provider. Every request goes where the
 * provider says, except the discovery document: it is read from where the
 * configuration says (`FEDERATION_<P>_DISCOVERY_URL`), and the endpoints the
 * configuration names replace the published ones. So the same code talks to
 * the real provider and to a stand-in on loopback, and openid-client still
 * checks the document against the issuer it expects.
 */
export function upstreamFetch(discovery: string, endpoints: Partial<Record<EndpointName, string>>): CustomFetch {
  const moved = Object.entries(MEMBERS).filter(([name]) => endpoints[name as EndpointName] !== undefined);
  return async (url, options) => {
    const init = options as RequestInit;
    if (url !== discovery) return fetch(url, init);
    const response = await fetch(endpoints.discovery ?? discovery, init);
    if (!response.ok || moved.length === 0) return response;
    const document = (await response.json()) as Record<string, unknown>;
    for (const [name, member] of moved) document[member] = endpoints[name as EndpointName];
    return Response.json(document, { status: response.status });
  };
}
