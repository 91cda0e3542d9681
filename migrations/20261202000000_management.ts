import type { Knex } from 'knex';

/**
 * What the management API and its rules need:
 * - a blocked profile (no sign-in while `blocked_at` is set);
 * - who made each change in the audit trail (a profile, a client, the operator
 *   at the command line, or NetID itself) and from which user agent;
 * - a client secret replaced by a rotation, accepted until its grace period ends;
 * - invitations to an email or phone that has no profile yet, which its owner
 *   accepts by signing up through the link they were sent;
 * - the answers to writes sent with an Idempotency-Key, so a retry gets the
 *   same answer instead of a second change.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('profiles', (t) => {
    t.timestamp('blocked_at', { useTz: true });
  });

  await knex.schema.alterTable('audit_events', (t) => {
    t.text('actor_kind');
    t.uuid('actor_profile_id');
    t.text('actor_client_id');
    t.text('user_agent');
    t.index(['account_id', 'id']);
    t.index(['kind', 'id']);
  });

  await knex.schema.alterTable('clients', (t) => {
    t.text('previous_secret_sealed');
    t.timestamp('previous_secret_expires_at', { useTz: true });
  });
  // Accounts' back ends call the management API with client_credentials; accounts made before may too.
  await knex.raw(`
    update clients set metadata = jsonb_set(metadata, '{grant_types}', coalesce(metadata->'grant_types', '[]'::jsonb) || '["client_credentials"]'::jsonb)
     where account_id is not null and not coalesce(metadata->'grant_types', '[]'::jsonb) @> '["client_credentials"]'::jsonb`);

  await knex.schema.createTable('invitations', (t) => {
    t.uuid('id').primary();
    t.uuid('account_id').notNullable().references('accounts.id').onDelete('CASCADE');
    t.text('role').notNullable().checkIn(['admin', 'user']);
    // A normalised email or an E.164 phone: where the invitation was sent.
    t.text('address').notNullable();
    // A keyed hash of the link's secret: the link itself is only in the message.
    t.text('token_hash').notNullable().unique();
    t.uuid('invited_by_profile');
    t.text('invited_by_client');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('accepted_at', { useTz: true });
    t.uuid('accepted_by').references('profiles.id').onDelete('SET NULL');
    t.index(['address']);
    t.index(['account_id']);
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    // Whose key it is: a client id or a profile id, so two callers' keys never meet.
    t.text('caller').notNullable();
    t.text('key').notNullable();
    t.text('method').notNullable();
    t.text('path').notNullable();
    t.text('request_hash').notNullable();
    t.integer('status').notNullable();
    // The answer, sealed: it may hold a client secret shown once.
    t.text('response_sealed').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['caller', 'key']);
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('idempotency_keys');
  await knex.schema.dropTableIfExists('invitations');
  await knex.schema.alterTable('clients', (t) => {
    t.dropColumn('previous_secret_sealed');
    t.dropColumn('previous_secret_expires_at');
  });
  await knex.schema.alterTable('audit_events', (t) => {
    t.dropIndex(['account_id', 'id']);
    t.dropIndex(['kind', 'id']);
    t.dropColumn('actor_kind');
    t.dropColumn('actor_profile_id');
    t.dropColumn('actor_client_id');
    t.dropColumn('user_agent');
  });
  await knex.schema.alterTable('profiles', (t) => {
    t.dropColumn('blocked_at');
  });
}
