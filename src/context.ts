import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { AccountDependencies } from './accounts/create-account.js';
import type { ClientMetadataValidator } from './clients/register-client.js';
import type { Config } from './config/environment.js';
import { createAccountQueries } from './db/accounts.js';
import { createAuditQueries } from './db/audit.js';
import { createClientQueries } from './db/clients.js';
import { assertDatabaseReachable, createDatabase, databaseOptions, type Database } from './db/database.js';
import { createMembershipQueries } from './db/memberships.js';
import { migrateToLatest } from './db/migrations.js';
import { createProfileQueries } from './db/profiles.js';
import { loadInstallationSecrets, type InstallationSecrets } from './oidc/installation-secrets.js';
import { createProvider } from './oidc/provider.js';
import { createSigningKeyStore } from './oidc/signing-keys.js';
import { createSealer } from './security/sealing.js';
import { createSignInLimits, type SignInLimits } from './security/rate-limits.js';
import { createViews, type Views } from './views/render.js';

/** Everything NetID is built from, wired once; the HTTP app and the command line both use it. */
export interface NetidContext {
  config: Config;
  logger: Logger;
  db: Database;
  queries: {
    profiles: ReturnType<typeof createProfileQueries>;
    accounts: ReturnType<typeof createAccountQueries>;
    memberships: ReturnType<typeof createMembershipQueries>;
    clients: ReturnType<typeof createClientQueries>;
    audit: ReturnType<typeof createAuditQueries>;
  };
  keys: ReturnType<typeof createSigningKeyStore>;
  secrets: InstallationSecrets;
  provider: Provider;
  views: Views;
  limits: SignInLimits;
  accountDependencies: AccountDependencies;
  close(): Promise<void>;
}

export interface ContextOptions {
  /** An open database (tests); otherwise one is opened from the configuration and closed with the context. */
  db?: Database;
}

export async function createNetidContext(config: Config, logger: Logger, options: ContextOptions = {}): Promise<NetidContext> {
  const db = options.db ?? (await createDatabase(databaseOptions(config)));
  try {
    await assertDatabaseReachable(db, config.databaseUrl);
    if (config.migrateOnStart) {
      const applied = await migrateToLatest(db);
      if (applied.length) logger.info({ migrations: applied }, 'database migrated');
    }
    const sealer = createSealer(config.keyEncryptionKey);
    const queries = {
      profiles: createProfileQueries(db),
      accounts: createAccountQueries(db),
      memberships: createMembershipQueries(db),
      clients: createClientQueries(db, sealer),
      audit: createAuditQueries(db),
    };
    const keys = createSigningKeyStore(db, sealer);
    await keys.ensureCurrentKeys();
    const secrets = await loadInstallationSecrets(db, sealer);
    const views = createViews();
    const provider = createProvider({
      issuer: config.issuer,
      trustProxy: config.trustProxy,
      db,
      jwks: await keys.loadJwks(),
      secrets,
      ...queries,
      views,
      logger,
    });
    const validateClient: ClientMetadataValidator = async (metadata) => {
      await provider.Client.validate(metadata);
    };
    return {
      config,
      logger,
      db,
      queries,
      keys,
      secrets,
      provider,
      views,
      limits: createSignInLimits(db),
      accountDependencies: { db, ...queries, validateClient, accountUrlPattern: config.accountUrlPattern },
      async close() {
        if (!options.db) await db.destroy();
      },
    };
  } catch (error) {
    if (!options.db) await db.destroy().catch(() => {});
    throw error;
  }
}
