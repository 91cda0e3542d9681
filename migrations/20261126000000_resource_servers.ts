import type { Knex } from 'knex';

/**
 * Resource servers: APIs that accept NetID's access tokens, named by their
 * resource indicator (RFC 8707). Each lists the scopes it understands and the
 * clients allowed to ask for tokens to it; most want JWT access tokens
 * (RFC 9068), which they check against the JWKS instead of calling
 * introspection. Instances cache them, so changes bump a cache version as
 * clients do (20261125030000_cache_versions).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('resource_servers', (t) => {
    t.text('identifier').primary();
    t.text('name').notNullable();
    t.specificType('scopes', 'text[]').notNullable();
    t.text('access_token_format').notNullable().defaultTo('jwt').checkIn(['jwt', 'opaque']);
    t.text('signing_alg').notNullable().defaultTo('RS256').checkIn(['RS256', 'ES256', 'EdDSA']);
    t.integer('access_token_ttl').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('alter table resource_servers add constraint resource_servers_ttl check (access_token_ttl between 60 and 86400)');

  await knex.schema.createTable('resource_server_clients', (t) => {
    t.text('resource_server').notNullable().references('identifier').inTable('resource_servers').onDelete('CASCADE');
    t.text('client_id').notNullable().references('client_id').inTable('clients').onDelete('CASCADE');
    t.primary(['resource_server', 'client_id']);
  });
  await knex.raw('create index resource_server_clients_client on resource_server_clients (client_id)');

  await knex('cache_versions').insert({ name: 'resource_servers', version: 0 });
  await knex.raw(`
    create function count_resource_server_change() returns trigger language plpgsql as $$
    begin
      update cache_versions set version = version + 1 where name = 'resource_servers';
      return null;
    end
    $$`);
  for (const table of ['resource_servers', 'resource_server_clients']) {
    await knex.raw(`
      create trigger ${table}_changed after insert or update or delete or truncate on ${table}
      for each statement execute function count_resource_server_change()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('resource_server_clients');
  await knex.schema.dropTableIfExists('resource_servers');
  await knex.raw('drop function if exists count_resource_server_change()');
  await knex('cache_versions').where({ name: 'resource_servers' }).delete();
}
