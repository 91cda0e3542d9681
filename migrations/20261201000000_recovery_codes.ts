import type { Knex } from 'knex';

/**
 * Recovery codes are counted per identifier typed, registered or not, so
 * "Forgot password?" answers the same for everyone: a row may belong to no
 * profile (it is sent nowhere) and is found by a keyed hash of the identifier,
 * never the identifier itself. Each is bound to the sign-in that asked for it
 * (`requester`), so one browser's wrong tries never use up another's code.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table one_time_codes alter column profile_id drop not null');
  await knex.raw('alter table one_time_codes alter column target drop not null');
  await knex.raw('alter table one_time_codes add column identifier_hash text, add column requester text');
  await knex.raw(
    'alter table one_time_codes add constraint one_time_codes_holder check (profile_id is not null or identifier_hash is not null)',
  );
  await knex.raw(
    'create index one_time_codes_identifier on one_time_codes (identifier_hash, purpose, created_at) where identifier_hash is not null',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists one_time_codes_identifier');
  await knex.raw('delete from one_time_codes where profile_id is null or target is null');
  await knex.raw('alter table one_time_codes drop constraint if exists one_time_codes_holder');
  await knex.raw('alter table one_time_codes drop column if exists identifier_hash, drop column if exists requester');
  await knex.raw('alter table one_time_codes alter column target set not null');
  await knex.raw('alter table one_time_codes alter column profile_id set not null');
}
