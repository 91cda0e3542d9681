import type { SigningAlgorithm } from '../oidc/signing-keys.js';
import type { AccountDependencies } from './create-account.js';

export interface MovedClient {
  account: string;
  client_id: string;
  /** What the client had: undefined means oidc-provider's default for every client, RS256. */
  from: string;
  to: SigningAlgorithm;
}

/**
 * Moves accounts' clients to another ID token algorithm. Clients made before
 * ACCOUNT_ID_TOKEN_ALG keep theirs until an operator runs this, since the
 * account's back end must be able to verify the new algorithm first. Each
 * change is validated as oidc-provider will read it, stored through the
 * client queries (so every instance's client cache drops the old metadata)
 * and audited; clients already signing with `alg` are left alone.
 */
export async function setAccountIdTokenAlg(
  deps: AccountDependencies,
  input: { accountIds: string[] | 'all'; alg: SigningAlgorithm },
): Promise<MovedClient[]> {
  return deps.db.transaction(async (trx) => {
    const rows = await trx('clients')
      .join('accounts', 'accounts.id', 'clients.account_id')
      .modify((query) => {
        if (input.accountIds !== 'all') query.whereIn('accounts.id', input.accountIds);
      })
      .orderBy('accounts.name')
      .forUpdate()
      .select<{ client_id: string; name: string; account_id: string }[]>('clients.client_id', 'accounts.name', 'clients.account_id');
    const moved: MovedClient[] = [];
    for (const row of rows) {
      const client = await deps.clients.findByAccount(row.account_id, trx);
      if (!client) continue;
      const from = typeof client.metadata.id_token_signed_response_alg === 'string' ? client.metadata.id_token_signed_response_alg : 'RS256';
      if (from === input.alg) continue;
      const change = { id_token_signed_response_alg: input.alg };
      await deps.validateClient({ ...(await deps.clients.findMetadata(client.client_id, trx))!, ...change });
      await deps.clients.updateMetadata(client.client_id, { ...client.metadata, ...change }, trx);
      await deps.audit.record(
        { kind: 'account.id_token_alg_changed', accountId: row.account_id, clientId: client.client_id, detail: { from, to: input.alg } },
        trx,
      );
      moved.push({ account: row.name, client_id: client.client_id, from, to: input.alg });
    }
    return moved;
  });
}
