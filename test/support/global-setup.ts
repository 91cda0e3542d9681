// Runs once in jest's parent process, before any worker starts.
import type { PostgresCluster } from './postgres-cluster.js';

/** Setup and teardown are loaded as separate modules; a registered symbol on globalThis is what they share. */
const clusterKey: symbol = Symbol.for('netid.test.postgresCluster');
export type ClusterHolder = Record<symbol, PostgresCluster | undefined>;

/**
 * jest loads this file with Node's own ESM loader, not through ts-jest: its
 * moduleNameMapper does not apply, so './postgres-cluster.js' would not
 * resolve. Node 24 (the project's pinned runtime) strips the types of the
 * .ts file itself.
 */
async function loadClusterModule(): Promise<typeof import('./postgres-cluster.js')> {
  try {
    return await import(new URL('./postgres-cluster.ts', import.meta.url).href);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new Error(
        `jest runs on Node ${process.version}, which cannot load TypeScript natively; ` +
          'run the tests with `npm test`, which uses the Node 24 from node_modules/.bin.',
        { cause: error },
      );
    }
    throw error;
  }
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a valid URL)';
  }
}

export default async function globalSetup(): Promise<void> {
  // Workers are started after this returns and copy process.env, so this is how they learn the URL.
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    process.env.NETID_TEST_POSTGRES_URL = given;
    console.log(`\nPostgreSQL for tests: TEST_DATABASE_URL ${withoutPassword(given)}`);
    return;
  }
  const { startPostgresCluster } = await loadClusterModule();
  const cluster = await startPostgresCluster();
  (globalThis as ClusterHolder)[clusterKey] = cluster;
  process.env.NETID_TEST_POSTGRES_URL = cluster.url;
  console.log(`\nPostgreSQL for tests: throw-away cluster ${cluster.url} (${cluster.binDirectory})`);
}
