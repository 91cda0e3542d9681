import { parseArgs } from 'node:util';
import { SCENARIO_NAMES, type ScenarioName } from './target.js';

export interface BenchOptions {
  /** Seconds of load per scenario, server and repeat. */
  duration: number;
  repeats: number;
  connections: number;
  /** NetID processes behind the load; with 2, one instance is measured too and the scaling factor shown. */
  instances: 1 | 2;
  scenarios: ScenarioName[];
  json: string | undefined;
  /** Folder for V8 CPU profiles of the NetID processes, written when they stop. */
  cpuProfileDir: string | undefined;
  /** Print PostgreSQL's most expensive statements over the run (pg_stat_statements). */
  pgStats: boolean;
  /** Minutes of sustained sign-ins for the memory check; replaces the scenario table when given. */
  soakMinutes: number | undefined;
}

export const USAGE = `npm run bench -- [--duration SECONDS] [--repeats N] [--connections N] [--quick]
                    [--instances 1|2] [--only name,name] [--json FILE] [--cpu-prof DIR]
                    [--pg-stats] [--soak MINUTES]

  --duration     seconds of load per scenario, per server and repeat (default 10)
  --repeats      runs per scenario and server; medians are reported (default 3)
  --quick        a smoke run: 3 seconds, 1 repeat (explicit --duration/--repeats win)
  --connections  concurrent connections or virtual users (default 32)
  --instances    NetID processes on the one database (default 1); with 2 the table
                 also shows one instance and the scaling factor
  --only         scenarios to run: ${SCENARIO_NAMES.join(', ')}
  --json         also write the results to FILE
  --cpu-prof     write CPU profiles of the NetID processes into DIR
  --pg-stats     load pg_stat_statements into the cluster and print the statements
                 that took PostgreSQL the most time over the scenarios
  --soak         instead of the table: MINUTES of password sign-ins against NetID,
                 sampling its RSS and the model table (the memory check uses 5)`;

export class OptionsError extends Error {}

function positiveInteger(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new OptionsError(`--${name} must be a whole number of at least 1, got "${raw}"`);
  return value;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string' },
        repeats: { type: 'string' },
        quick: { type: 'boolean' },
        connections: { type: 'string' },
        instances: { type: 'string' },
        only: { type: 'string' },
        json: { type: 'string' },
        'cpu-prof': { type: 'string' },
        'pg-stats': { type: 'boolean' },
        soak: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new OptionsError((error as Error).message);
  }
  if (values.help) return 'help';

  let scenarios: ScenarioName[] = [...SCENARIO_NAMES];
  if (values.only !== undefined) {
    const asked = values.only.split(',').map((name) => name.trim()).filter(Boolean);
    const unknown = asked.filter((name) => !(SCENARIO_NAMES as readonly string[]).includes(name));
    if (unknown.length || !asked.length) {
      throw new OptionsError(`--only takes names among ${SCENARIO_NAMES.join(', ')}; unknown: ${unknown.join(', ') || '(none given)'}`);
    }
    // The table keeps its usual order whatever order --only lists.
    scenarios = SCENARIO_NAMES.filter((name) => asked.includes(name));
  }

  const instances = positiveInteger('instances', values.instances, 1);
  if (instances > 2) throw new OptionsError(`--instances is 1 or 2 (one per core of the machine), got ${instances}`);

  return {
    duration: positiveInteger('duration', values.duration, values.quick ? 3 : 10),
    repeats: positiveInteger('repeats', values.repeats, values.quick ? 1 : 3),
    connections: positiveInteger('connections', values.connections, 32),
    instances: instances as 1 | 2,
    scenarios,
    json: values.json,
    cpuProfileDir: values['cpu-prof'],
    pgStats: values['pg-stats'] ?? false,
    soakMinutes: values.soak === undefined ? undefined : positiveInteger('soak', values.soak, 5),
  };
}
