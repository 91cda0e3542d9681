import type { Knex } from 'knex';

/**
 * Account security:
 * - a profile's authenticator app (TOTP): its secret sealed with
 *   KEY_ENCRYPTION_KEY, confirmed by a first code, and the last time step
 *   accepted, so a code is good once;
 * - its passkeys and security keys (WebAuthn credentials), named by the person;
 * - its recovery codes, kept as keyed hashes, each usable once;
 * - where each network session signs in from (user agent, address, first and
 *   last seen), keyed by oidc-provider's session uid, which stays the same
 *   while the session's id changes at each sign-in;
 * - the browsers a profile has signed in from (a hash of a marker cookie), so
 *   a sign-in from a new one is announced;
 * - an account's demand that everyone signing in to it proves two factors.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('profile_totp', (t) => {
    t.uuid('profile_id').primary().references('profiles.id').onDelete('CASCADE');
    t.text('secret_sealed').notNullable();
    t.timestamp('confirmed_at', { useTz: true });
    t.bigInteger('last_time_step');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('profile_passkeys', (t) => {
    t.uuid('id').primary();
    t.uuid('profile_id').notNullable().references('profiles.id').onDelete('CASCADE');
    t.text('credential_id').notNullable().unique();
    t.text('public_key').notNullable();
    t.bigInteger('counter').notNullable().defaultTo(0);
    t.jsonb('transports').notNullable().defaultTo('[]');
    t.text('device_type').notNullable();
    t.boolean('backed_up').notNullable().defaultTo(false);
    t.text('name').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true });
    t.index(['profile_id']);
  });

  await knex.schema.createTable('profile_recovery_codes', (t) => {
    t.increments('id').primary();
    t.uuid('profile_id').notNullable().references('profiles.id').onDelete('CASCADE');
    t.text('code_hash').notNullable();
    t.timestamp('used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['profile_id', 'code_hash']);
  });

  await knex.schema.createTable('profile_sessions', (t) => {
    t.text('session_uid').primary();
    t.uuid('profile_id').notNullable().references('profiles.id').onDelete('CASCADE');
    t.text('user_agent');
    t.text('ip');
    t.timestamp('first_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['profile_id']);
    t.index(['last_seen_at']);
  });

  await knex.schema.createTable('profile_devices', (t) => {
    t.uuid('profile_id').notNullable().references('profiles.id').onDelete('CASCADE');
    t.text('device_hash').notNullable();
    t.timestamp('first_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['profile_id', 'device_hash']);
  });

  await knex.schema.alterTable('accounts', (t) => {
    t.boolean('require_second_factor').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('require_second_factor');
  });
  for (const table of ['profile_devices', 'profile_sessions', 'profile_recovery_codes', 'profile_passkeys', 'profile_totp']) {
    await knex.schema.dropTableIfExists(table);
  }
}
