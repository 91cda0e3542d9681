import type { Knex } from 'knex';

/**
 * A refresh token used again within the reuse window gets the answer its
 * first use got (src/oidc/refresh-reuse.ts), so that answer is kept, sealed,
 * on the consumed token until the window has passed and the cleanup job
 * clears it. The partial index lets that job find the few rows holding one
 * without reading the table.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('oidc_models', (t) => {
    t.text('reuse_response_sealed');
  });
  await knex.raw('create index oidc_models_reuse_response on oidc_models (consumed_at) where reuse_response_sealed is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists oidc_models_reuse_response');
  await knex.schema.alterTable('oidc_models', (t) => {
    t.dropColumn('reuse_response_sealed');
  });
}
