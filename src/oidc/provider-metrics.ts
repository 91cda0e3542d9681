import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Metrics } from '../operations/metrics.js';
import { clientKind } from './client-kind.js';

/**
 * Counts what oidc-provider reports as events: each successful token response
 * by grant type and kind of client, and each logout token that did not reach
 * its client (NetID's own deliveries report theirs the same way,
 * src/oidc/backchannel-logout.ts).
 */
export function countProviderEvents(provider: Provider, metrics: Pick<Metrics, 'tokensIssued' | 'backchannelLogoutFailures'>): void {
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    // Only grant types oidc-provider has enabled succeed, so the label cannot grow with what clients send.
    const grantType = String(ctx.oidc.params?.grant_type ?? 'unknown');
    metrics.tokensIssued.inc({ grant_type: grantType, client_kind: clientKind(ctx.oidc.client) });
  });
  provider.on('backchannel.error', () => metrics.backchannelLogoutFailures.inc());
}
