/**
 * The environment NetID's own entry point (src/main.ts) runs with under the
 * benchmark: what an operator would set for one instance of a fleet, minus TLS.
 * NODE_ENV=production would insist on an https issuer and an SMTP server;
 * nothing on the measured paths depends on it.
 */
export interface NetidInstanceSettings {
  databaseUrl: string;
  /** Shared by every process: it opens the signing keys and client secrets the others sealed. */
  keyEncryptionKey: string;
  /** Shared by every instance, as behind a load balancer. */
  issuer: string;
  port: number;
  /** How often expired tokens, sessions and counters are deleted. */
  cleanupIntervalSeconds: number;
  poolMax?: number | undefined;
}

export function netidEnvironment(settings: NetidInstanceSettings): Record<string, string> {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(settings.port),
    ISSUER: settings.issuer,
    DATABASE_URL: settings.databaseUrl,
    KEY_ENCRYPTION_KEY: settings.keyEncryptionKey,
    // A fleet migrates once, before its instances start (bench/seed.ts does it here).
    MIGRATE_ON_START: 'false',
    DEMO_DATA: 'false',
    // Every benchmark sign-in is from a new browser, so each queues a notice by email. With no
    // sender NetID would retry every one of them for minutes, work and log lines that no
    // deployment with a mail server does; the dev outbox takes them at once, in memory.
    DEV_OUTBOX: 'true',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    CLEANUP_INTERVAL_SECONDS: String(settings.cleanupIntervalSeconds),
    ...(settings.poolMax ? { DATABASE_POOL_MAX: String(settings.poolMax) } : {}),
  };
}
