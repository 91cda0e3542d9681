import type { ClientKind } from '../oidc/client-kind.js';
import type { Sealer } from '../security/sealing.js';
import type { VersionedCache } from './cached-by-version.js';
import { isTransaction, type Database } from './database.js';
import { createStatementRunner, preparedStatement } from './prepared-statements.js';
import type { Page } from './profiles.js';

// Columns named: a prepared `select *` fails once a migration adds a column under a running instance.
const CLIENT_COLUMNS = 'client_id, account_id, metadata, client_secret_sealed, first_party, previous_secret_sealed, previous_secret_expires_at';
const selectClient = preparedStatement('select_client', `select ${CLIENT_COLUMNS} from clients where client_id = ?`);

/** Client metadata as oidc-provider reads it (RFC 7591 names), without the secret. */
export type ClientMetadata = Record<string, unknown> & { client_id: string };

export interface StoredClient {
  client_id: string;
  account_id: string | null;
  metadata: ClientMetadata;
  client_secret_sealed: string | null;
  first_party: boolean;
  /** A secret replaced by a rotation, still accepted until it expires. */
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type ClientCache = VersionedCache<ClientMetadata>;

export function createClientQueries(db: Database, sealer: Sealer, cache: ClientCache) {
  const run = createStatementRunner(db);
  // Inside a transaction the caller must see its own uncommitted changes, so reads go through.
  const transactional = isTransaction(db);

  function toMetadata(row: StoredClient | undefined): ClientMetadata | undefined {
    if (!row) return undefined;
    const previousValid = row.previous_secret_sealed && row.previous_secret_expires_at && new Date(row.previous_secret_expires_at).getTime() > Date.now();
    return {
      ...row.metadata,
      client_id: row.client_id,
      ...(row.client_secret_sealed ? { client_secret: sealer.open(row.client_secret_sealed) } : {}),
      ...(previousValid
        ? {
            netid_previous_secret: sealer.open(row.previous_secret_sealed!),
            netid_previous_secret_expires_at: Math.floor(new Date(row.previous_secret_expires_at!).getTime() / 1000),
          }
        : {}),
      netid_account_id: row.account_id ?? undefined,
      netid_first_party: row.first_party,
    };
  }

  return {
    /** The metadata oidc-provider needs, secrets opened, or undefined for an unknown client. */
    async findMetadata(clientId: string): Promise<ClientMetadata | undefined> {
      if (transactional) return toMetadata(await db<StoredClient>('clients').where({ client_id: clientId }).first());
      return cache.get(clientId, async () => toMetadata((await run<StoredClient>(selectClient, [clientId])).rows[0]));
    },

    async find(clientId: string): Promise<StoredClient | undefined> {
      return db<StoredClient>('clients').where({ client_id: clientId }).first();
    },

    async findByAccount(accountId: string): Promise<StoredClient | undefined> {
      return db<StoredClient>('clients').where({ account_id: accountId }).first();
    },

    async insert(client: { metadata: ClientMetadata; clientSecret?: string | undefined; accountId?: string | null; firstParty?: boolean }): Promise<void> {
      await db('clients').insert({
        client_id: client.metadata.client_id,
        account_id: client.accountId ?? null,
        metadata: JSON.stringify(client.metadata),
        client_secret_sealed: client.clientSecret ? sealer.seal(client.clientSecret) : null,
        first_party: client.firstParty ?? false,
      });
      cache.forget(client.metadata.client_id, db);
    },

    async updateMetadata(clientId: string, metadata: ClientMetadata): Promise<void> {
      await db('clients')
        .where({ client_id: clientId })
        .update({ metadata: JSON.stringify(metadata), updated_at: db.fn.now() });
      cache.forget(clientId, db);
    },

    async setFirstParty(clientId: string, firstParty: boolean): Promise<void> {
      await db('clients').where({ client_id: clientId }).update({ first_party: firstParty, updated_at: db.fn.now() });
      cache.forget(clientId, db);
    },

    /** A new secret; the one it replaces keeps working until `previousExpiresAt`, if given. */
    async replaceSecret(clientId: string, secret: string, previousExpiresAt: Date | undefined): Promise<void> {
      await db('clients')
        .where({ client_id: clientId })
        .update({
          client_secret_sealed: sealer.seal(secret),
          previous_secret_sealed: previousExpiresAt ? db.ref('client_secret_sealed') : null,
          previous_secret_expires_at: previousExpiresAt ?? null,
          updated_at: db.fn.now(),
        });
      cache.forget(clientId, db);
    },

    async delete(clientId: string): Promise<boolean> {
      // The deleted rows, not a count: knex-pglite answers a plain delete with its driver's result.
      const deleted = await db('clients').where({ client_id: clientId }).delete().returning('client_id');
      cache.forget(clientId, db);
      return deleted.length > 0;
    },

    /** Clients, a page at a time in client id order, optionally of one kind only (src/oidc/client-kind.ts). */
    async list(filter: { kind?: ClientKind | undefined }, page: { limit: number; after?: string | undefined }): Promise<Page<StoredClient>> {
      const query = db<StoredClient>('clients').orderBy('client_id').limit(page.limit + 1);
      // The same order of tests as clientKindOf: an account's first, then an operator's service, then first party.
      const operator = db.raw("coalesce(metadata->>'netid_operator', '') = 'true'");
      if (filter.kind === 'account') query.whereNotNull('account_id');
      if (filter.kind === 'operator') query.whereNull('account_id').where(operator);
      if (filter.kind === 'first_party') query.whereNull('account_id').whereNot(operator).where('first_party', true);
      if (filter.kind === 'third_party') query.whereNull('account_id').whereNot(operator).where('first_party', false);
      if (page.after) query.where('client_id', '>', page.after);
      const rows = await query;
      const items = rows.slice(0, page.limit);
      return { items, next: rows.length > page.limit ? items.at(-1)!.client_id : undefined };
    },
  };
}

export type ClientQueries = ReturnType<typeof createClientQueries>;
