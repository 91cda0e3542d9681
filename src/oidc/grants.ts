import type { KoaContextWithOIDC, Grant } from 'oidc-provider';
import { skipsConsent } from './client-kind.js';

/**
 * oidc-provider's `loadExistingGrant`: the session's grant for this client,
 * and for clients that need no consent (an account's own client, first-party
 * apps) a grant that covers whatever they asked for, so no consent page appears.
 */
export async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const { oidc } = ctx;
  const client = oidc.client!;
  const accountId = oidc.session?.accountId;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!accountId || !skipsConsent(client)) return grant;

  if (grant && grant.accountId !== accountId) grant = undefined;
  grant ??= new oidc.provider.Grant({ accountId, clientId: client.clientId });
  const scope = [...oidc.requestParamOIDCScopes].join(' ');
  if (scope) grant.addOIDCScope(scope);
  const claims = [...oidc.requestParamClaims];
  if (claims.length) grant.addOIDCClaims(claims);
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    const scopes = [...oidc.requestParamScopes].filter((s) => server.scopes.has(s)).join(' ');
    if (scopes) grant.addResourceScope(indicator, scopes);
  }
  await grant.save();
  return grant;
}
