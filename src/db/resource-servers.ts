import type { SigningAlgorithm } from '../oidc/signing-keys.js';
import type { VersionedCache } from './cached-by-version.js';
import { isTransaction, type Database } from './database.js';
import { createStatementRunner, preparedStatement } from './prepared-statements.js';

export type AccessTokenFormat = 'jwt' | 'opaque';

/** An API that accepts NetID's access tokens, named by its resource indicator (RFC 8707). */
export interface ResourceServer {
  identifier: string;
  name: string;
  scopes: string[];
  accessTokenFormat: AccessTokenFormat;
  signingAlg: SigningAlgorithm;
  /** Seconds an access token to it lives. */
  accessTokenTtl: number;
  /** The clients that may ask for tokens to it. */
  clientIds: string[];
}

interface ResourceServerRow {
  identifier: string;
  name: string;
  scopes: string[];
  access_token_format: AccessTokenFormat;
  signing_alg: SigningAlgorithm;
  access_token_ttl: number;
  client_ids: string[];
}

const COLUMNS = `rs.identifier, rs.name, rs.scopes, rs.access_token_format, rs.signing_alg, rs.access_token_ttl,
  coalesce((select array_agg(c.client_id order by c.client_id) from resource_server_clients c
            where c.resource_server = rs.identifier), '{}') as client_ids`;

const selectResourceServer = preparedStatement('select_resource_server', `select ${COLUMNS} from resource_servers rs where rs.identifier = ?`);

function fromRow(row: ResourceServerRow): ResourceServer {
  return {
    identifier: row.identifier,
    name: row.name,
    scopes: row.scopes,
    accessTokenFormat: row.access_token_format,
    signingAlg: row.signing_alg,
    accessTokenTtl: row.access_token_ttl,
    clientIds: row.client_ids,
  };
}

export type ResourceServerCache = VersionedCache<ResourceServer>;

export function createResourceServerQueries(db: Database, cache: ResourceServerCache) {
  const run = createStatementRunner(db);
  // Inside a transaction reads go through: the cache checks its version on the pool, which the
  // embedded database's one connection, held by the transaction, cannot give it.
  const transactional = isTransaction(db);

  return {
    async find(identifier: string): Promise<ResourceServer | undefined> {
      const load = async () => {
        const row = (await run<ResourceServerRow>(selectResourceServer, [identifier])).rows[0];
        return row && fromRow(row);
      };
      return transactional ? load() : cache.get(identifier, load);
    },

    async list(): Promise<ResourceServer[]> {
      const { rows } = await db.raw<{ rows: ResourceServerRow[] }>(`select ${COLUMNS} from resource_servers rs order by rs.identifier`);
      return rows.map(fromRow);
    },

    /** Registers the server and the clients allowed to it (call it in a transaction: two statements). */
    async insert(server: ResourceServer): Promise<void> {
      await db('resource_servers').insert({
        identifier: server.identifier,
        name: server.name,
        scopes: server.scopes,
        access_token_format: server.accessTokenFormat,
        signing_alg: server.signingAlg,
        access_token_ttl: server.accessTokenTtl,
      });
      if (server.clientIds.length) {
        await db('resource_server_clients').insert(server.clientIds.map((clientId) => ({ resource_server: server.identifier, client_id: clientId })));
      }
      cache.forget(server.identifier, db);
    },

    /** Changes what tokens to the server look like; the allowed clients are changed with allowClient/disallowClient. */
    async update(server: Omit<ResourceServer, 'clientIds'>): Promise<void> {
      await db('resource_servers').where({ identifier: server.identifier }).update({
        name: server.name,
        scopes: server.scopes,
        access_token_format: server.accessTokenFormat,
        signing_alg: server.signingAlg,
        access_token_ttl: server.accessTokenTtl,
      });
      cache.forget(server.identifier, db);
    },

    // Deletions ask for the rows they deleted: knex-pglite answers a plain delete with its driver's
    // result rather than the count knex gives on PostgreSQL, so a count would be read differently per engine.
    async remove(identifier: string): Promise<boolean> {
      await db('resource_server_clients').where({ resource_server: identifier }).delete();
      const deleted = await db('resource_servers').where({ identifier }).delete().returning('identifier');
      cache.forget(identifier, db);
      return deleted.length > 0;
    },

    /** Lets one more client ask for tokens to the server; true when it was not allowed before. */
    async allowClient(identifier: string, clientId: string): Promise<boolean> {
      const inserted = await db('resource_server_clients')
        .insert({ resource_server: identifier, client_id: clientId })
        .onConflict(['resource_server', 'client_id'])
        .ignore()
        .returning('client_id');
      cache.forget(identifier, db);
      return inserted.length > 0;
    },

    async disallowClient(identifier: string, clientId: string): Promise<boolean> {
      const deleted = await db('resource_server_clients').where({ resource_server: identifier, client_id: clientId }).delete().returning('client_id');
      cache.forget(identifier, db);
      return deleted.length > 0;
    },
  };
}

export type ResourceServerQueries = ReturnType<typeof createResourceServerQueries>;
