import type { Sealer } from '../security/sealing.js';
import { createVersionedCache } from './cached-by-version.js';
import type { Database } from './database.js';
import { createStatementRunner, preparedStatement } from './prepared-statements.js';

// Columns named: a prepared `select *` fails once a migration adds a column under a running instance.
const selectClient = preparedStatement(
  'select_client',
  'select client_id, account_id, metadata, client_secret_sealed, first_party from clients where client_id = ?',
);

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
  const run = createStatementRunner(db);
  // Every token, introspection and userinfo request looks its client up; clients change a few times a day.
  const cache = createVersionedCache<ClientMetadata>(db, { name: 'clients' });

  function toMetadata(row: StoredClient | undefined): ClientMetadata | undefined {
    if (!row) return undefined;
    return {
      ...row.metadata,
      client_id: row.client_id,
      ...(row.client_secret_sealed ? { client_secret: sealer.open(row.client_secret_sealed) } : {}),
      netid_account_id: row.account_id ?? undefined,
      netid_first_party: row.first_party,
    };
  }

  return {
    /** The metadata oidc-provider needs, secret opened, or undefined for an unknown client. */
    async findMetadata(clientId: string, trx: Database = db): Promise<ClientMetadata | undefined> {
      // Inside a transaction the caller must see its own uncommitted changes, so it reads through.
      if (trx !== db) return toMetadata(await trx<StoredClient>('clients').where({ client_id: clientId }).first());
      return cache.get(clientId, async () => toMetadata((await run<StoredClient>(selectClient, [clientId])).rows[0]));
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
      cache.forget(client.metadata.client_id, trx);
    },

    async updateMetadata(clientId: string, metadata: ClientMetadata, trx: Database = db): Promise<void> {
      await trx('clients')
        .where({ client_id: clientId })
        .update({ metadata: JSON.stringify(metadata), updated_at: trx.fn.now() });
      cache.forget(clientId, trx);
    },
  };
}

export type ClientQueries = ReturnType<typeof createClientQueries>;
