import type { ClusterHolder } from './global-setup.js';

// The same registered symbol as global-setup.ts; importing its value would need the .ts loader dance there.
const clusterKey: symbol = Symbol.for('netid.test.postgresCluster');

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as ClusterHolder;
  const cluster = holder[clusterKey];
  delete holder[clusterKey];
  await cluster?.stop();
}
