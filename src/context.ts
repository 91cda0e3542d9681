import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { apiIdentifier } from './api/api-resource-server.js';
import { createAccountService, type AccountService } from './accounts/account-service.js';
import { createMembershipService, type MembershipService } from './accounts/membership-service.js';
import { createClientService, type ClientMetadataValidator, type ClientService } from './clients/client-service.js';
import type { Config } from './config/environment.js';
import type { AuditFilter, StoredAuditEvent } from './db/audit.js';
import { assertDatabaseReachable, createDatabase, databaseOptions, type Database } from './db/database.js';
import { migrateToLatest } from './db/migrations.js';
import { createFederationService, type FederationService } from './federation/federation-service.js';
import { createPhotoDownload } from './federation/photo-download.js';
import { createFederationRegistry } from './federation/registry.js';
import type { Page } from './db/profiles.js';
import { createQueries, createQueryCaches, type Queries } from './db/queries.js';
import { backchannelLogoutsSettled, notifyBackchannelLogout } from './oidc/backchannel-logout.js';
import { loadInstallationSecrets, type InstallationSecrets } from './oidc/installation-secrets.js';
import { createKeyService, type KeyService } from './oidc/key-service.js';
import { createProvider } from './oidc/provider.js';
import { createSigningKeyStore } from './oidc/signing-keys.js';
import { createPasswordCheck } from './profile/change-password.js';
import { createExistingProfileNotices } from './profile/existing-profile-notice.js';
import { NETWORK_CLIENT_ID } from './profile/network-session.js';
import { createProfileService, type ProfileService } from './profile/profile-service.js';
import { createResourceServerService, type ResourceServerService } from './resource-servers/resource-server-service.js';
import { createSealer, type Sealer } from './security/sealing.js';
import { countProviderEvents } from './oidc/provider-metrics.js';
import { createMetrics, type Metrics } from './operations/metrics.js';
import { createSignInLimits, type SignInLimits } from './security/rate-limits.js';
import { createSecondFactorLimits } from './security/second-factor-limits.js';
import { createFactorService, type FactorService } from './factors/factor-service.js';
import { createSessionService, type SessionService } from './sessions/session-service.js';
import { recordSessions } from './sessions/record-sessions.js';
import { createViews, type Views } from './views/render.js';
import { createDevOutbox, httpSmsSender, smtpEmailSender, type DevOutbox, type Senders } from './delivery/senders.js';
import { startDeliveryWorker, type DeliveryWorker } from './delivery/worker.js';

/**
 * The domain rules, each in one place, built once: the pages, the command
 * line and the management API all call these, never the tables.
 */
export interface NetidServices {
  profiles: ProfileService;
  /** Second factors: authenticator apps, passkeys, recovery codes. */
  factors: FactorService;
  /** A profile's network sessions and the browsers it signs in from. */
  sessions: SessionService;
  accounts: AccountService;
  memberships: MembershipService;
  clients: ClientService;
  resourceServers: ResourceServerService;
  keys: KeyService;
  /** Round trips to social-login providers; what an identity may do is the profiles' rules. */
  federation: FederationService;
  audit: { list(filter: AuditFilter, page: { limit: number; after?: string | undefined }): Promise<Page<StoredAuditEvent>> };
}

/** Everything NetID is built from, wired once; the HTTP app and the command line both use it. */
export interface NetidContext {
  config: Config;
  logger: Logger;
  db: Database;
  /** The repositories, for the few reads that are no rule (oidc-provider's storage, page lookups). */
  queries: Queries;
  services: NetidServices;
  keys: ReturnType<typeof createSigningKeyStore>;
  /** The signing keys this process loaded at start (oidc-provider's `jwks`): it signs and verifies with these. */
  jwks: { keys: JWK[] };
  /** Seals secrets at rest with KEY_ENCRYPTION_KEY (signing keys, client secrets, queued codes). */
  sealer: Sealer;
  secrets: InstallationSecrets;
  provider: Provider;
  views: Views;
  limits: SignInLimits;
  /** Counters and gauges for /metrics (src/operations/metrics.ts); counting never waits on the database. */
  metrics: Metrics;
  senders: Senders;
  /** Asks the delivery worker to send now rather than at its next poll. */
  wakeDelivery(): void;
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
  const db = options.db ?? (await createDatabase({ ...databaseOptions(config), logger }));
  try {
    await assertDatabaseReachable(db, config.databaseUrl);
    if (config.migrateOnStart) {
      const applied = await migrateToLatest(db);
      if (applied.length) logger.info({ migrations: applied }, 'database migrated');
    }
    const sealer = createSealer(config.keyEncryptionKey);
    const keys = createSigningKeyStore(db, sealer);
    await keys.ensureCurrentKeys();
    const secrets = await loadInstallationSecrets(db, sealer);
    const metrics = createMetrics();
    metrics.watchDatabase(db);
    // Process metrics only where they are served: they start timers and observers of their own.
    if (config.metrics.port !== undefined || config.metrics.token !== undefined) metrics.collectProcessMetrics();
    const queries = createQueries(db, { sealer, codeKey: secrets.codeKey, caches: createQueryCaches(db), metrics });
    const views = createViews();
    const jwks = await keys.loadJwks();
    const devOutbox = config.delivery.devOutbox ? createDevOutbox() : undefined;
    const senders = chooseSenders(config, devOutbox);
    let worker: DeliveryWorker | undefined;
    const wakeDelivery = () => worker?.wake();

    // The rules and oidc-provider need each other (a sign-in activates an invitation; a dismissal
    // sends logout tokens through oidc-provider), so the rules reach it through these closures.
    let provider: Provider | undefined;
    const validateClient: ClientMetadataValidator = async (metadata) => {
      await provider!.Client.validate(metadata);
    };
    const notifyLogout = (logouts: Parameters<typeof notifyBackchannelLogout>[2]) => notifyBackchannelLogout(provider!, logger, logouts);

    const limits = createSignInLimits(db);
    const clients = createClientService({ queries, validateClient, builtIn: [NETWORK_CLIENT_ID] });
    const accounts = createAccountService({ queries, clients, accountUrlPattern: config.accountUrlPattern, accountIdTokenAlg: config.accountIdTokenAlg });
    const memberships = createMembershipService({
      queries,
      notifyLogout,
      issuer: config.issuer,
      defaultPhoneRegion: config.defaultPhoneRegion,
      linkKey: secrets.codeKey,
      wakeDelivery,
    });
    const services: NetidServices = {
      clients,
      accounts,
      memberships,
      profiles: createProfileService({
        queries,
        notifyLogout,
        wakeDelivery,
        defaultPhoneRegion: config.defaultPhoneRegion,
        accounts,
        memberships,
        checkCurrent: createPasswordCheck(db, metrics),
        notices: createExistingProfileNotices(db),
        limits,
        metrics,
        downloadPhoto: createPhotoDownload({ allowPrivateNetworks: config.allowPrivateNetworks }),
      }),
      resourceServers: createResourceServerService({ queries, builtIn: [apiIdentifier(config.issuer)] }),
      keys: createKeyService({ queries }),
      federation: createFederationService({
        registry: createFederationRegistry(config.federation, config.issuer),
        queries,
        db,
        sealer,
        logger,
        metrics,
      }),
      factors: createFactorService({
        queries,
        sealer,
        codeKey: secrets.codeKey,
        issuer: config.issuer,
        limits: createSecondFactorLimits(db),
        metrics,
      }),
      sessions: createSessionService({ queries, notifyLogout, wakeDelivery, issuer: config.issuer }),
      audit: { list: (filter, page) => queries.audit.list(filter, page) },
    };
    provider = createProvider({
      issuer: config.issuer,
      db,
      jwks,
      secrets,
      sealer,
      queries,
      memberships,
      views,
      logger,
      allowPrivateNetworks: config.allowPrivateNetworks,
    });
    countProviderEvents(provider, metrics);
    recordSessions(provider, services.sessions, logger);
    const started = provider;
    return {
      config,
      logger,
      db,
      queries,
      services,
      keys,
      jwks,
      sealer,
      secrets,
      provider,
      views,
      limits,
      metrics,
      senders,
      wakeDelivery,
      devOutbox,
      startDelivery() {
        worker ??= startDeliveryWorker(db, sealer, senders, logger, { pollMilliseconds: config.delivery.pollMilliseconds });
        return worker;
      },
      async close() {
        await worker?.stop();
        // Logout tokens already on their way still need the database (each gives up after 2.5 s).
        await backchannelLogoutsSettled(started);
        if (!options.db) await db.destroy();
      },
    };
  } catch (error) {
    if (!options.db) await db.destroy().catch(() => {});
    throw error;
  }
}
