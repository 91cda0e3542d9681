import fs from 'node:fs';
import { modelTableSize } from './model-table.js';
import type { NetidFleet } from './netid-fleet.js';
import type { BenchOptions } from './options.js';
import { passwordSignin } from './scenarios/password-signin.js';

const SAMPLE_SECONDS = 15;

interface Sample {
  seconds: number;
  rssMb: number;
  rows: number;
  expired: number;
  byModel: Record<string, number>;
}

/**
 * Sustained password sign-ins against NetID for the given minutes, with its
 * resident set and the model table sampled along the way. Memory is flat when
 * the RSS at the end is within 20% of the RSS after the first minute; the
 * table is kept in check when expired rows do not pile up.
 */
export async function runSoak(netid: NetidFleet, databaseUrl: string, options: BenchOptions): Promise<number> {
  const minutes = options.soakMinutes!;
  const rss = () => Math.max(...netid.processes.map((child) => child.rssMb()));
  const samples: Sample[] = [];
  const started = performance.now();
  const sample = async () => {
    const size = await modelTableSize(databaseUrl);
    const entry = {
      seconds: Math.round((performance.now() - started) / 1000),
      rssMb: rss(),
      rows: size.rows,
      expired: size.expired,
      byModel: size.byModel,
    };
    samples.push(entry);
    process.stderr.write(`  ${entry.seconds} s: RSS ${entry.rssMb.toFixed(0)} MiB, oidc_models ${entry.rows} rows (${entry.expired} expired)\n`);
  };

  process.stderr.write(`Soak: ${minutes} min of password sign-ins, ${options.connections} virtual users\n`);
  await sample();
  const timer = setInterval(() => void sample(), SAMPLE_SECONDS * 1000);
  const load = await passwordSignin.measure(netid.info, { duration: minutes * 60, connections: options.connections });
  clearInterval(timer);
  await sample();

  const atMinute = samples.find((entry) => entry.seconds >= 60) ?? samples.at(-1)!;
  const atEnd = samples.at(-1)!;
  const growth = atEnd.rssMb / atMinute.rssMb - 1;
  const lines = [
    '',
    `Soak: ${(load.rps * minutes * 60).toFixed(0)} sign-ins in ${minutes} min (${load.rps.toFixed(1)}/s, p99 ${load.p99.toFixed(0)} ms, ${load.errors} errors)`,
    `RSS after ${atMinute.seconds} s: ${atMinute.rssMb.toFixed(0)} MiB; after ${atEnd.seconds} s: ${atEnd.rssMb.toFixed(0)} MiB (${(growth * 100).toFixed(1)}%, target within 20%)`,
    `oidc_models: ${samples[0]!.rows} rows at the start, ${atEnd.rows} at the end, ${atEnd.expired} of them expired`,
    `oidc_models at the end by model: ${JSON.stringify(atEnd.byModel)}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (options.json) {
    fs.writeFileSync(
      options.json,
      `${JSON.stringify(
        {
          soak_minutes: minutes,
          signins_per_second: Number(load.rps.toFixed(1)),
          errors: load.errors,
          rss_mb_after_1_min: Number(atMinute.rssMb.toFixed(1)),
          rss_mb_at_end: Number(atEnd.rssMb.toFixed(1)),
          rss_growth: Number(growth.toFixed(3)),
          model_rows_before: samples[0]!.rows,
          model_rows_after: atEnd.rows,
          samples,
        },
        null,
        2,
      )}\n`,
    );
  }
  return 0;
}
