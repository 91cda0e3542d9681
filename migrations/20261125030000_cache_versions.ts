import type { Knex } from 'knex';

/**
 * Instances keep client metadata in memory (src/db/clients.ts) instead of
 * reading it on every token request. A counter per cached table, bumped by a
 * trigger in the same transaction as any change to the table (commands,
 * cascades from account deletion, hand-written SQL alike), tells every
 * instance when to drop what it holds; it becomes visible only on commit, so
 * an instance never sees the new count with the old rows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cache_versions', (t) => {
    t.text('name').primary();
    t.bigInteger('version').notNullable().defaultTo(0);
  });
  await knex('cache_versions').insert({ name: 'clients', version: 0 });
  await knex.raw(`
    create function count_client_change() returns trigger language plpgsql as $$
    begin
      update cache_versions set version = version + 1 where name = 'clients';
      return null;
    end
    $$`);
  // Per statement, not per row: one bump however many rows a statement touches.
  await knex.raw(`
    create trigger clients_changed after insert or update or delete or truncate on clients
    for each statement execute function count_client_change()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists clients_changed on clients');
  await knex.raw('drop function if exists count_client_change()');
  await knex.schema.dropTableIfExists('cache_versions');
}
