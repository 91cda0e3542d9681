import type { Sealer } from '../security/sealing.js';
import type { Database } from './database.js';

/** Client metadata as oidc-provider reads it (RFC 7591 names), without the secret. */
export type ClientMetadata = Record<string, unknown> & { client_id: string };

export interface StoredClient {
  client_id: string;
  account_id: string | null;
  metadata: ClientMetadata;
  client_secret_sealed: string | null;
  first_party: boolean;
}

export function createClientQueries(db: Database, sealer: Sealer) {
  return {
    /** The metadata oidc-provider needs, secret opened, or undefined for an unknown client. */
    async findMetadata(clientId: string, trx: Database = db): Promise<ClientMetadata | undefined> {
      const row = await trx<StoredClient>('clients').where({ client_id: clientId }).first();
      if (!row) return undefined;
      return {
        ...row.metadata,
        client_id: row.client_id,
        ...(row.client_secret_sealed ? { client_secret: sealer.open(row.client_secret_sealed) } : {}),
        netid_account_id: row.account_id ?? undefined,
        netid_first_party: row.first_party,
      };
    },

    async findByAccount(accountId: string, trx: Database = db): Promise<StoredClient | undefined> {
      return trx<StoredClient>('clients').where({ account_id: accountId }).first();
    },

    async insert(
      client: { metadata: ClientMetadata; clientSecret?: string | undefined; accountId?: string | null; firstParty?: boolean },
      trx: Database = db,
    ): Promise<void> {
      await trx('clients').insert({
        client_id: client.metadata.client_id,
        account_id: client.accountId ?? null,
        metadata: JSON.stringify(client.metadata),
        client_secret_sealed: client.clientSecret ? sealer.seal(client.clientSecret) : null,
        first_party: client.firstParty ?? false,
      });
    },

    async updateMetadata(clientId: string, metadata: ClientMetadata, trx: Database = db): Promise<void> {
      await trx('clients')
        .where({ client_id: clientId })
        .update({ metadata: JSON.stringify(metadata), updated_at: trx.fn.now() });
    },
  };
}

export type ClientQueries = ReturnType<typeof createClientQueries>;
