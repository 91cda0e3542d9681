import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One-time codes for confirming an email or phone and for recovering access.
  await knex.schema.createTable('one_time_codes', (t) => {
    t.uuid('id').primary();
    t.uuid('profile_id').notNullable().references('profiles.id').onDelete('CASCADE');
    t.text('purpose').notNullable().checkIn(['confirm-email', 'connect-email', 'connect-phone', 'recover-access']);
    // The address the code was sent to: confirming it is what the code proves.
    t.text('target').notNullable();
    t.text('code_hash').notNullable();
    t.integer('failed_attempts').notNullable().defaultTo(0);
    // Options the person chose when asking for the code (e.g. propagate to memberships).
    t.jsonb('options').notNullable().defaultTo('{}');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('consumed_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['profile_id', 'purpose']);
    t.index(['expires_at']);
  });

  // Transactional outbox: written with the change that causes a message, delivered by a worker.
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id');
    t.text('channel').notNullable().checkIn(['email', 'sms']);
    t.text('recipient').notNullable();
    t.text('template').notNullable();
    t.text('locale').notNullable().defaultTo('en');
    // Cleared once delivered: it can hold a one-time code.
    t.jsonb('params');
    t.text('state').notNullable().defaultTo('pending').checkIn(['pending', 'sent', 'failed']);
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true });
  });
  await knex.raw("create index outbox_due on outbox (next_attempt_at) where state = 'pending'");

  // Photos are stored in the database so every instance serves them without shared disks.
  await knex.schema.createTable('photos', (t) => {
    t.uuid('id').notNullable();
    t.integer('size').notNullable();
    t.text('content_type').notNullable();
    t.binary('data').notNullable();
    t.uuid('profile_id').references('profiles.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['id', 'size']);
    t.index(['profile_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('photos');
  await knex.schema.dropTableIfExists('outbox');
  await knex.schema.dropTableIfExists('one_time_codes');
}
