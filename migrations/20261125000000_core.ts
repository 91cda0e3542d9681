import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('profiles', (t) => {
    t.uuid('id').primary();
    // Stored lower-cased; uniqueness is what makes one identifier one profile.
    t.text('email').unique();
    t.boolean('email_verified').notNullable().defaultTo(false);
    t.text('phone').unique(); // E.164
    t.boolean('phone_verified').notNullable().defaultTo(false);
    t.text('password_hash');
    t.text('first_name').notNullable().defaultTo('');
    t.text('last_name').notNullable().defaultTo('');
    t.text('photo');
    t.text('locale');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('accounts', (t) => {
    t.uuid('id').primary();
    t.text('name').notNullable().unique();
    // Set by the one rename an admin may make.
    t.timestamp('renamed_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('memberships', (t) => {
    t.uuid('account_id').notNullable().references('accounts.id').onDelete('CASCADE');
    t.uuid('profile_id').notNullable().references('profiles.id').onDelete('CASCADE');
    t.text('role').notNullable().checkIn(['admin', 'user']);
    t.text('state').notNullable().checkIn(['invited', 'active', 'dismissed']);
    // The account-level copy of the person's data; null falls back to the profile.
    t.text('first_name');
    t.text('last_name');
    t.text('photo');
    t.text('mobile_phone');
    t.text('contact_email');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['account_id', 'profile_id']);
    t.index(['profile_id']);
  });

  await knex.schema.createTable('identities', (t) => {
    t.uuid('id').primary();
    t.uuid('profile_id').notNullable().references('profiles.id').onDelete('CASCADE');
    t.text('provider').notNullable();
    t.text('subject').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['provider', 'subject']);
    t.index(['profile_id']);
  });

  await knex.schema.createTable('clients', (t) => {
    t.text('client_id').primary();
    // An account's own client; null for operator-registered clients.
    t.uuid('account_id').unique().references('accounts.id').onDelete('CASCADE');
    t.jsonb('metadata').notNullable();
    t.text('client_secret_sealed');
    t.boolean('first_party').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // Every oidc-provider model (sessions, grants, codes, tokens, interactions) in one table.
  await knex.schema.createTable('oidc_models', (t) => {
    t.text('model').notNullable();
    t.text('id').notNullable();
    t.jsonb('payload').notNullable();
    t.text('grant_id');
    t.text('user_code');
    t.text('uid');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('consumed_at', { useTz: true });
    t.primary(['model', 'id']);
    t.index(['expires_at']);
  });
  await knex.raw('create index oidc_models_grant_id on oidc_models (grant_id) where grant_id is not null');
  await knex.raw('create index oidc_models_uid on oidc_models (model, uid) where uid is not null');
  await knex.raw('create index oidc_models_user_code on oidc_models (model, user_code) where user_code is not null');

  await knex.schema.createTable('signing_keys', (t) => {
    t.text('kid').primary();
    t.text('alg').notNullable();
    // next: published, not yet signing; current: signing; previous: published so older tokens verify; retired: gone.
    t.text('state').notNullable().checkIn(['next', 'current', 'previous', 'retired']);
    t.jsonb('public_jwk').notNullable();
    t.text('private_jwk_sealed').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('promoted_at', { useTz: true });
    t.timestamp('retired_at', { useTz: true });
  });
  await knex.raw("create unique index signing_keys_one_current on signing_keys (alg) where state = 'current'");
  await knex.raw("create unique index signing_keys_one_next on signing_keys (alg) where state = 'next'");

  // Installation-wide secrets every instance must share (cookie keys, DPoP nonce secret).
  await knex.schema.createTable('installation_secrets', (t) => {
    t.text('name').primary();
    t.text('value_sealed').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id');
    t.timestamp('occurred_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('kind').notNullable();
    t.uuid('profile_id');
    t.uuid('account_id');
    t.text('client_id');
    t.text('ip');
    t.jsonb('detail').notNullable().defaultTo('{}');
    t.index(['profile_id', 'occurred_at']);
    t.index(['occurred_at']);
  });

  // Attempt counters (sign-in, codes): expire is milliseconds since the epoch.
  await knex.schema.createTable('rate_limits', (t) => {
    t.string('key', 255).primary();
    t.integer('points').notNullable().defaultTo(0);
    t.bigInteger('expire');
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'rate_limits',
    'audit_events',
    'installation_secrets',
    'signing_keys',
    'oidc_models',
    'clients',
    'identities',
    'memberships',
    'accounts',
    'profiles',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
