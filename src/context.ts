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
import { createResourceServerQueries } from './db/resource-servers.js';
import { backchannelLogoutsSettled } from './oidc/backchannel-logout.js';
import { loadInstallationSecrets, type InstallationSecrets } from './oidc/installation-secrets.js';
import { createProvider } from './oidc/provider.js';
import { createSigningKeyStore } from './oidc/signing-keys.js';
import { countProviderEvents } from './oidc/provider-metrics.js';
import { createMetrics, type Metrics } from './operations/metrics.js';
import { countedCodes } from './profile/counted-codes.js';
import { createSealer } from './security/sealing.js';
import { createSignInLimits, type SignInLimits } from './security/rate-limits.js';
import { createViews, type Views } from './views/render.js';
import { createDevOutbox, httpSmsSender, smtpEmailSender, type DevOutbox, type Senders } from './delivery/senders.js';
import { startDeliveryWorker, type DeliveryWorker } from './delivery/worker.js';
import { createOneTimeCodes, type OneTimeCodes } from './profile/one-time-codes.js';
import type { CodeDelivery } from './profile/send-code.js';

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
    resourceServers: ReturnType<typeof createResourceServerQueries>;
    audit: ReturnType<typeof createAuditQueries>;
  };
  keys: ReturnType<typeof createSigningKeyStore>;
  secrets: InstallationSecrets;
  provider: Provider;
  views: Views;
  limits: SignInLimits;
  /** Counters and gauges for /metrics (src/operations/metrics.ts); counting never waits on the database. */
  metrics: Metrics;
  accountDependencies: AccountDependencies;
  codes: OneTimeCodes;
  codeDelivery: CodeDelivery;
  senders: Senders;
  /** Present when messages without a configured sender are kept for /dev/outbox. */
  devOutbox: DevOutbox | undefined;
  /** Starts delivering the outbox from this process (the server does; the command line does not). */
  startDelivery(): DeliveryWorker;
  close(): Promise<void>;
}

/** SMTP and the SMS gateway when configured; otherwise the development outbox, outside production. */
function chooseSenders(config: Config, devOutbox: DevOutbox | undefined): Senders {
  const unavailable = (what: string) => async () => {
    throw new Error(`no ${what} sender is configured`);
  };
  const { smtpUrl, mailFrom, smsGateway } = config.delivery;
  return {
    email: smtpUrl ? smtpEmailSender(smtpUrl, mailFrom) : (devOutbox?.email ?? unavailable('email')),
    sms: smsGateway ? httpSmsSender(smsGateway) : (devOutbox?.sms ?? unavailable('SMS')),
  };
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
      resourceServers: createResourceServerQueries(db),
      audit: createAuditQueries(db),
    };
    const keys = createSigningKeyStore(db, sealer);
    await keys.ensureCurrentKeys();
    const secrets = await loadInstallationSecrets(db, sealer);
    const views = createViews();
    const provider = createProvider({
      issuer: config.issuer,
      db,
      jwks: await keys.loadJwks(),
      secrets,
      ...queries,
      views,
      logger,
      allowPrivateNetworks: config.allowPrivateNetworks,
    });
    const metrics = createMetrics();
    metrics.watchDatabase(db);
    // Process metrics only where they are served: they start timers and observers of their own.
    if (config.metrics.port !== undefined || config.metrics.token !== undefined) metrics.collectProcessMetrics();
    countProviderEvents(provider, metrics);
    const codes = countedCodes(createOneTimeCodes(db, secrets.codeKey), metrics);
    const devOutbox = config.delivery.devOutbox ? createDevOutbox() : undefined;
    const senders = chooseSenders(config, devOutbox);
    let worker: DeliveryWorker | undefined;
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
      metrics,
      accountDependencies: { db, ...queries, validateClient, accountUrlPattern: config.accountUrlPattern, accountIdTokenAlg: config.accountIdTokenAlg, provider, logger },
      codes,
      codeDelivery: { db, codes, sealer, wakeDelivery: () => worker?.wake() },
      senders,
      devOutbox,
      startDelivery() {
        worker ??= startDeliveryWorker(db, sealer, senders, logger, { pollMilliseconds: config.delivery.pollMilliseconds });
        return worker;
      },
      async close() {
        await worker?.stop();
        // Logout tokens already on their way still need the database (each gives up after 2.5 s).
        await backchannelLogoutsSettled(provider);
        if (!options.db) await db.destroy();
      },
    };
  } catch (error) {
    if (!options.db) await db.destroy().catch(() => {});
    throw error;
  }
}
