// npm run bench: NetID on a throw-away PostgreSQL against a bare oidc-provider,
// scenario by scenario, on loopback only. See USAGE in bench/options.ts.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startPostgresCluster, type PostgresCluster } from '../test/support/postgres-cluster.js';
import { resetStatementStats, STATEMENT_STATS_SETTINGS, statementStatsReport } from './statement-stats.js';
import { REPOSITORY, startJsonLineServer, stopAllChildren, type ChildServer } from './child-server.js';
import { postmasterPid, processCpuMs, processTreeCpuMs } from './cpu-time.js';
import type { LoadSettings } from './load.js';
import { combine, type Measurement } from './measurement.js';
import { createBenchDatabase, modelTableSize } from './model-table.js';
import { startNetidFleet, type NetidFleet } from './netid-fleet.js';
import { OptionsError, parseOptions, USAGE, type BenchOptions } from './options.js';
import { formatReport, reportJson, type BenchReport, type ScenarioResult } from './report.js';
import { clientCredentials } from './scenarios/client-credentials.js';
import { discovery } from './scenarios/discovery.js';
import { federatedSignin } from './scenarios/federated-signin.js';
import { introspection } from './scenarios/introspection.js';
import { jwks } from './scenarios/jwks.js';
import { memberInvite } from './scenarios/member-invite.js';
import { membersList } from './scenarios/members-list.js';
import { passwordSignin } from './scenarios/password-signin.js';
import { totpSignin } from './scenarios/totp-signin.js';
import { refreshToken } from './scenarios/refresh-token.js';
import type { Scenario } from './scenarios/scenario.js';
import { userinfo } from './scenarios/userinfo.js';
import { runSoak } from './soak.js';
import type { ScenarioName, Seed, ServerInfo } from './target.js';

const execFileAsync = promisify(execFile);

const SCENARIOS: Record<ScenarioName, Scenario> = {
  client_credentials: clientCredentials,
  introspection,
  userinfo,
  refresh_token: refreshToken,
  password_signin: passwordSignin,
  federated_signin: federatedSignin,
  totp_signin: totpSignin,
  members_list: membersList,
  member_invite: memberInvite,
  discovery,
  jwks: jwks,
};

/** Long enough for the JIT and the connection pools, short enough not to matter. */
const WARM_UP_SECONDS = 2;

/** The cleanup job's interval under load: short, so that the model table shows it working within one run. */
const CLEANUP_INTERVAL_SECONDS = 30;

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function seedDatabase(databaseUrl: string, keyEncryptionKey: string, people: number): Promise<Seed> {
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', path.join(REPOSITORY, 'bench/seed.ts')], {
    cwd: REPOSITORY,
    env: { ...process.env, DATABASE_URL: databaseUrl, KEY_ENCRYPTION_KEY: keyEncryptionKey, BENCH_PEOPLE: String(people) },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Seed;
}

/** A database of the cluster, migrated and seeded, with what NetID processes on it are started with. */
async function deployment(serverUrl: string, name: string, keyEncryptionKey: string, options: BenchOptions) {
  const databaseUrl = await createBenchDatabase(serverUrl, name);
  log(`Migrating and seeding ${name} (${options.connections} profiles, one per virtual user)...`);
  const seed = await seedDatabase(databaseUrl, keyEncryptionKey, options.connections);
  return { databaseUrl, keyEncryptionKey, seed, cleanupIntervalSeconds: CLEANUP_INTERVAL_SECONDS, cpuProfileDir: options.cpuProfileDir };
}

interface Servers {
  netid: NetidFleet;
  reference: { info: ServerInfo; child: ChildServer };
  fleet: NetidFleet | undefined;
  postmaster: number;
}

/** A measurement with the CPU time its server processes and PostgreSQL spent on it. */
async function withCpuTime(serverPids: number[], postmaster: number, run: () => Promise<Measurement>): Promise<Measurement> {
  const serverCpu = () => serverPids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const serverBefore = serverCpu();
  const postgresBefore = processTreeCpuMs(postmaster);
  const measurement = await run();
  if (!measurement.operations) return measurement;
  return {
    ...measurement,
    cpuMsPerOp: {
      server: (serverCpu() - serverBefore) / measurement.operations,
      postgres: (processTreeCpuMs(postmaster) - postgresBefore) / measurement.operations,
    },
  };
}

async function measureScenario(scenario: Scenario, servers: Servers, options: BenchOptions): Promise<ScenarioResult> {
  const load: LoadSettings = { duration: options.duration, connections: options.connections };
  const warmUp: LoadSettings = { ...load, duration: Math.min(WARM_UP_SECONDS, options.duration) };
  const pids = (fleet: NetidFleet) => fleet.processes.map((child) => child.pid);
  const targets: { key: 'netid' | 'reference' | 'fleet'; run: (settings: LoadSettings) => Promise<Measurement> }[] = [
    {
      key: 'netid',
      run: (settings) => withCpuTime(pids(servers.netid), servers.postmaster, () => scenario.measure(servers.netid.info, settings)),
    },
  ];
  if (!scenario.withoutReference) {
    targets.push({
      key: 'reference',
      run: (settings) =>
        scenario.measureReference
          ? scenario.measureReference(servers.reference.info, settings)
          : withCpuTime([servers.reference.child.pid], servers.postmaster, () => scenario.measure(servers.reference.info, settings)),
    });
  }
  const fleet = servers.fleet;
  if (fleet) {
    targets.push({ key: 'fleet', run: (settings) => withCpuTime(pids(fleet), servers.postmaster, () => scenario.measure(fleet.info, settings)) });
  }

  const repeats: Record<string, Measurement[]> = { netid: [], reference: [], fleet: [] };
  for (const target of targets) await target.run(warmUp);
  // Repeats alternate between the servers, so a slow moment of the machine does not land on one of them only.
  for (let repeat = 1; repeat <= options.repeats; repeat++) {
    for (const target of targets) {
      const measurement = await target.run(load);
      repeats[target.key]!.push(measurement);
      const cpu = measurement.cpuMsPerOp;
      log(
        `  ${scenario.name} ${target.key} #${repeat}: ${measurement.rps.toFixed(1)}/s, p99 ${measurement.p99.toFixed(1)} ms, ` +
          `${measurement.errors} errors${cpu ? `, CPU per op: server ${cpu.server.toFixed(3)} ms, PostgreSQL ${cpu.postgres.toFixed(3)} ms` : ''}`,
      );
    }
  }
  const extra = await scenario.extraFigures?.(load);
  return {
    name: scenario.name,
    extra,
    netid: combine(repeats.netid!),
    reference: scenario.withoutReference ? undefined : combine(repeats.reference!),
    withoutReference: scenario.withoutReference,
    fleet: fleet ? combine(repeats.fleet!) : undefined,
  };
}

async function main(): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    log(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.cpuProfileDir) fs.mkdirSync(options.cpuProfileDir, { recursive: true });

  let cluster: PostgresCluster | undefined;
  const cleanUp = async () => {
    await stopAllChildren();
    await cluster?.stop();
  };
  // Ctrl-C or a CI timeout: stop the servers and the cluster before going.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`\n${signal}: stopping the servers and the PostgreSQL cluster`);
      void cleanUp().finally(() => process.exit(130));
    });
  }

  try {
    log('Starting a throw-away PostgreSQL cluster...');
    cluster = await startPostgresCluster(options.pgStats ? STATEMENT_STATS_SETTINGS : {});
    const keyEncryptionKey = randomBytes(32).toString('hex');
    const fleetSettings = await deployment(cluster.url, 'netid_bench', keyEncryptionKey, options);
    const { databaseUrl, seed } = fleetSettings;

    if (options.soakMinutes) {
      log('Starting NetID...');
      const netid = await startNetidFleet({ ...fleetSettings, instances: options.instances });
      return await runSoak(netid, databaseUrl, options);
    }

    log('Starting NetID and the reference...');
    const netid = await startNetidFleet({ ...fleetSettings, instances: 1 });
    const reference = await startJsonLineServer<ServerInfo>('reference', 'bench/reference-server.ts', {
      BENCH_ACCOUNT_ID_TOKEN_ALG: seed.accountClient.idTokenAlg,
    });
    // A database of its own: every NetID start registers the network pages' client with its issuer's
    // redirect URI, so a fleet under another issuer on the same database would take it from the single instance.
    const fleet = options.instances > 1 ? await startNetidFleet({ ...(await deployment(cluster.url, 'netid_bench_fleet', keyEncryptionKey, options)), instances: options.instances }) : undefined;
    const servers: Servers = { netid, reference, fleet, postmaster: postmasterPid(cluster.dataDirectory) };

    const before = await modelTableSize(databaseUrl);
    if (options.pgStats) await resetStatementStats(databaseUrl);
    const results: ScenarioResult[] = [];
    for (const name of options.scenarios) {
      log(`Scenario ${name}...`);
      results.push(await measureScenario(SCENARIOS[name], servers, options));
    }
    // Read before the benchmark's own queries below would show in it.
    const statementStats = options.pgStats ? await statementStatsReport(databaseUrl) : undefined;
    const after = await modelTableSize(databaseUrl);

    const report: BenchReport = {
      settings: { duration: options.duration, repeats: options.repeats, connections: options.connections, instances: options.instances },
      results,
      rssMb: [...netid.processes, ...(fleet?.processes ?? [])].map((child) => child.peakRssMb()),
      modelRowsBefore: before.rows,
      modelRowsAfter: after.rows,
      expiredRowsAfter: after.expired,
    };
    process.stdout.write(formatReport(report));
    log(`oidc_models by model after the run: ${JSON.stringify(after.byModel)}`);
    if (statementStats) log(`\nPostgreSQL's most expensive statements over the scenarios:\n${statementStats}`);
    if (options.json) {
      fs.writeFileSync(options.json, `${JSON.stringify(reportJson(report), null, 2)}\n`);
      log(`Wrote ${options.json}`);
    }
    return 0;
  } finally {
    await cleanUp();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
