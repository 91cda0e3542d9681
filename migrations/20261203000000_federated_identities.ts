import type { Knex } from 'knex';

/**
 * Social login. An identity is one upstream account, named by its provider,
 * the issuer that vouched for it (Microsoft's differs per tenant) and the
 * subject there; it keeps what the provider last said about the person and
 * when it was last used, never the provider's tokens. A profile holds at most
 * one identity per provider.
 *
 * A federation request is one round trip to a provider in progress: found by
 * a hash of the `state` sent out, bound to the sign-in (interaction) or the
 * signed-in browser (profile and session) that started it, with the PKCE
 * verifier and nonce sealed. It is deleted when the provider answers, so a
 * replayed answer finds nothing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('identities', (t) => {
    t.text('issuer').notNullable().defaultTo('');
    t.text('email');
    t.boolean('email_verified').notNullable().defaultTo(false);
    t.text('first_name');
    t.text('last_name');
    t.text('photo_url');
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.alterTable('identities', (t) => {
    t.dropUnique(['provider', 'subject']);
    t.unique(['provider', 'issuer', 'subject']);
    t.unique(['profile_id', 'provider']);
  });

  await knex.schema.createTable('federation_requests', (t) => {
    t.text('state_hash').primary();
    t.text('provider').notNullable();
    t.text('interaction_uid');
    t.uuid('profile_id').references('profiles.id').onDelete('CASCADE');
    t.text('session_id');
    t.text('checks_sealed').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['expires_at']);
  });
  await knex.raw(
    'alter table federation_requests add constraint federation_requests_binding check (interaction_uid is not null or (profile_id is not null and session_id is not null))',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('federation_requests');
  await knex.schema.alterTable('identities', (t) => {
    t.dropUnique(['profile_id', 'provider']);
    t.dropUnique(['provider', 'issuer', 'subject']);
    t.unique(['provider', 'subject']);
  });
  await knex.schema.alterTable('identities', (t) => {
    for (const column of ['issuer', 'email', 'email_verified', 'first_name', 'last_name', 'photo_url', 'last_used_at', 'updated_at']) t.dropColumn(column);
  });
}
