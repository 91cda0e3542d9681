import http from 'node:http';
import { seed, DEMO_PROFILE } from '../seeds/demo.js';
import { createApp, registerOwnClients } from './app.js';
import { ConfigError, loadConfig } from './config/environment.js';
import { createNetidContext } from './context.js';
import { createLogger } from './logging.js';
import { startCleanup } from './operations/cleanup.js';
import { startMetricsServer, type MetricsServer } from './operations/metrics-endpoint.js';

/** How long in-flight requests may take to finish after SIGTERM before connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface ServeOptions {
  /** Runs last in a graceful shutdown, before the process exits: tracing flushes its buffered spans here. */
  beforeExit?: () => Promise<void>;
}

async function main(options: ServeOptions): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  for (const warning of config.warnings) {
    logger.warn(warning);
    process.stderr.write(`WARNING: ${warning}\n`);
  }
  const context = await createNetidContext(config, logger);
  await registerOwnClients(context);
  if (config.demoData) await seed(context);
  const stopCleanup = startCleanup(context.db, logger, config.cleanupIntervalSeconds);

  const app = createApp(context);
  // Messages queued by requests (and any left from before a restart) go out from here; context.close() stops it.
  context.startDelivery();
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  logger.info({ issuer: config.issuer, host: config.host, port: config.port, database: config.databaseUrl ? 'postgresql' : 'pglite' }, 'NetID is listening');
  let metricsServer: MetricsServer | undefined;
  if (config.metrics.port !== undefined) {
    metricsServer = await startMetricsServer(context.metrics, { ...config.metrics, port: config.metrics.port });
    logger.info({ host: config.metrics.host, port: metricsServer.port }, 'metrics are served at /metrics');
  }
  const banner = [
    ...(config.demoData
      ? [
          `  NetID issuer:      ${config.issuer}`,
          `  Discovery:         ${config.issuer}/.well-known/openid-configuration`,
          `  Demo relying party: ${config.issuer}/demo`,
          `  Demo sign-in:      ${DEMO_PROFILE.email} / ${DEMO_PROFILE.password}`,
        ]
      : []),
    ...(context.devOutbox ? [`  Dev outbox:        ${config.issuer}/dev/outbox`] : []),
  ];
  if (banner.length) process.stdout.write(['', ...banner, '', ''].join('\n'));

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const cut = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    cut.unref();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await metricsServer?.close();
    await stopCleanup();
    await context.close();
    await options.beforeExit?.().catch((error: unknown) => logger.warn({ err: error }, 'tracing did not flush'));
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** Starts NetID; src/main.ts calls it once tracing, if any, is in place. */
export function serve(options: ServeOptions = {}): void {
  main(options).catch((error: unknown) => {
    process.stderr.write(`NetID failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
