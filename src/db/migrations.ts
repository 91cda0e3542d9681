import type { Knex } from 'knex';
import * as core from '../../migrations/20261125000000_core.js';
import * as networkProfile from '../../migrations/20261125010000_network_profile.js';
import * as profileSessions from '../../migrations/20261125020000_profile_sessions.js';
import * as cacheVersions from '../../migrations/20261125030000_cache_versions.js';
import * as resourceServers from '../../migrations/20261126000000_resource_servers.js';
import * as recoveryCodes from '../../migrations/20261201000000_recovery_codes.js';
import * as refreshReuseResponse from '../../migrations/20261201010000_refresh_reuse_response.js';
import * as management from '../../migrations/20261202000000_management.js';
import * as federatedIdentities from '../../migrations/20261203000000_federated_identities.js';
import * as accountSecurity from '../../migrations/20261204000000_account_security.js';
import type { Database } from './database.js';

type Migration = { up(knex: Knex): Promise<void>; down(knex: Knex): Promise<void> };

/**
 * Migrations are listed here rather than discovered on disk, so the same list
 * runs under tsx, jest and the compiled build without loader tricks.
 */
const migrations: Record<string, Migration> = {
  '20261125000000_core': core,
  '20261125010000_network_profile': networkProfile,
  '20261125020000_profile_sessions': profileSessions,
  '20261125030000_cache_versions': cacheVersions,
  '20261126000000_resource_servers': resourceServers,
  '20261201000000_recovery_codes': recoveryCodes,
  '20261201010000_refresh_reuse_response': refreshReuseResponse,
  '20261202000000_management': management,
  '20261203000000_federated_identities': federatedIdentities,
  '20261204000000_account_security': accountSecurity,
};

export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return Object.keys(migrations).sort();
  },
  getMigrationName(name) {
    return name;
  },
  async getMigration(name) {
    const migration = migrations[name];
    if (!migration) throw new Error(`unknown migration ${name}`);
    return migration;
  },
};

export async function migrateToLatest(db: Database): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}
