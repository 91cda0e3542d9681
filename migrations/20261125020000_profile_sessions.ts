import type { Knex } from 'knex';

// Ending every session and grant of one profile (recovery, deletion) looks them up by owner.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "create index oidc_models_owner on oidc_models ((payload->>'accountId'), model) where model in ('Session', 'Grant')",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists oidc_models_owner');
}
