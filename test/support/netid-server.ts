import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, registerOwnClients } from '../../src/app.js';
import { loadConfig } from '../../src/config/environment.js';
import { createNetidContext, type NetidContext } from '../../src/context.js';
import type { Database } from '../../src/db/database.js';
import { createLogger } from '../../src/logging.js';

export const TEST_KEY_ENCRYPTION_KEY = 'a4b63bf29ba3c755cef270c56fa1d14572ed3ab357cacafc5b5164572c53f981';

export interface RunningNetid {
  issuer: string;
  port: number;
  context: NetidContext;
  stop(): Promise<void>;
}

/**
 * Starts NetID as `npm start` would, on the given database and on a loopback
 * port; `port` reuses an address so a restarted server keeps its issuer.
 */
export async function startNetid(
  db: Database,
  /** `issuerHost` names loopback as the issuer says it: WebAuthn needs a domain (`localhost`), never an IP address. */
  options: { port?: number; env?: Record<string, string>; issuerHost?: string } = {},
): Promise<RunningNetid> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${options.issuerHost ?? '127.0.0.1'}:${port}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    ISSUER: issuer,
    PORT: String(port),
    KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    MIGRATE_ON_START: 'false',
    DEMO_DATA: 'false',
    LOG_LEVEL: process.env.NETID_TEST_LOG_LEVEL ?? 'silent',
    CLEANUP_INTERVAL_SECONDS: '0',
    ACCOUNT_URL_PATTERN: 'https://{name}.bitrix24.test',
    ...options.env,
  });
  const context = await createNetidContext(config, createLogger(config.logLevel), { db });
  await registerOwnClients(context);
  server.on('request', createApp(context).callback());
  return {
    issuer,
    port,
    context,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await context.close();
    },
  };
}

/**
 * A restart of one process: stops NetID and starts it again on the same port,
 * so the issuer stays the same; `reopen` opens the database anew, as a new
 * process would (PGlite holds its folder until the old instance closes it).
 */
export async function restartNetid(netid: RunningNetid, reopen?: () => Promise<Database>): Promise<RunningNetid> {
  const { port } = netid;
  const database = netid.context.db;
  await netid.stop();
  const db = reopen ? await reopen() : database;
  // fetch keeps idle keep-alive sockets to the stopped server. An in-process restart (PGlite answers
  // without network I/O) can finish before the event loop polls and those sockets learn they were
  // closed; the next request would then go out on a dead socket. A real process restart takes longer.
  await new Promise((resolve) => setTimeout(resolve, 20));
  return startNetid(db, { port });
}
