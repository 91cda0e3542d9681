import os from 'node:os';
import type { Measurement } from './measurement.js';
import type { ScenarioName } from './target.js';

export interface ScenarioResult {
  name: ScenarioName;
  netid: Measurement;
  /** The bare oidc-provider, or for password_signin the argon2id ceiling; none for NetID's own API. */
  reference: Measurement | undefined;
  /** Why there is no reference, when there is none. */
  withoutReference?: string | undefined;
  /** NetID on two instances, when the run has them. */
  fleet?: Measurement | undefined;
  /** Scenario-specific figures beside the table (the argon2id floor, one at a time). */
  extra?: Record<string, number> | undefined;
}

export interface BenchReport {
  settings: { duration: number; repeats: number; connections: number; instances: number };
  results: ScenarioResult[];
  /** Peak resident set of each NetID process, in MiB: one instance first, then the fleet's. */
  rssMb: number[];
  modelRowsBefore: number;
  modelRowsAfter: number;
  expiredRowsAfter: number;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);

function fixed(value: number | undefined, digits: number): string {
  return value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function rate(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

/** A plain-text table, right-aligned numbers, as a terminal shows it. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

export function formatReport(report: BenchReport): string {
  const fleet = report.settings.instances > 1;
  const header = ['scenario', 'NetID/s', 'p50 ms', 'p99 ms', 'errors', 'reference/s', 'ref p99', 'ratio', 'cpu ms/op', 'pg ms/op', 'ref cpu'];
  if (fleet) header.push(`x${report.settings.instances}/s`, `x${report.settings.instances} p99`, 'scaling');
  const rows = report.results.map((result) => {
    const row = [
      result.name,
      rate(result.netid.rps),
      fixed(result.netid.p50, 1),
      fixed(result.netid.p99, 1),
      String(result.netid.errors),
      rate(result.reference?.rps),
      fixed(result.reference?.p99, 1),
      fixed(ratio(result.netid.rps, result.reference?.rps ?? Number.NaN), 2),
      fixed(result.netid.cpuMsPerOp?.server ?? Number.NaN, 3),
      fixed(result.netid.cpuMsPerOp?.postgres ?? Number.NaN, 3),
      fixed(result.reference?.cpuMsPerOp?.server ?? Number.NaN, 3),
    ];
    if (fleet) {
      row.push(
        result.fleet ? rate(result.fleet.rps) : '-',
        result.fleet ? fixed(result.fleet.p99, 1) : '-',
        result.fleet ? fixed(ratio(result.fleet.rps, result.netid.rps), 2) : '-',
      );
    }
    return row;
  });

  const lines = [
    '',
    `NetID benchmark: ${report.settings.connections} connections, ${report.settings.duration} s x ${report.settings.repeats} repeats (medians), ` +
      `${os.cpus().length} cores, Node ${process.version}`,
    '',
    table(header, rows),
    '',
    "password_signin: the reference is the argon2id ceiling: verifications on every core at once at NetID's parameters (m=19 MiB, t=2, p=1).",
    ...report.results.flatMap((result) => (result.withoutReference ? [`${result.name}: no reference (${result.withoutReference}).`] : [])),
    ...report.results.flatMap((result) =>
      Object.entries(result.extra ?? {}).map(([name, value]) => `${result.name}: ${name} = ${fixed(value, 1)}`),
    ),
    'cpu ms/op: CPU time of the NetID process(es) per successful operation; pg ms/op: of PostgreSQL; ref cpu: of the reference.',
    `NetID peak RSS: ${report.rssMb.map((mb) => `${mb.toFixed(0)} MiB`).join(', ')}`,
    `oidc_models rows: ${report.modelRowsBefore} before, ${report.modelRowsAfter} after (${report.expiredRowsAfter} of them expired, awaiting cleanup)`,
  ];

  const errorLines: string[] = [];
  for (const result of report.results) {
    for (const [server, measurement] of [['NetID', result.netid], ['reference', result.reference], ['fleet', result.fleet]] as const) {
      for (const [kind, count] of Object.entries(measurement?.errorKinds ?? {})) errorLines.push(`  ${result.name} / ${server}: ${count} x ${kind}`);
    }
  }
  if (errorLines.length) lines.push('', 'Errors:', ...errorLines);
  return `${lines.join('\n')}\n`;
}

const round = (value: number | undefined, digits = 2) => (value !== undefined && Number.isFinite(value) ? Number(value.toFixed(digits)) : null);

/** The figures as JSON, in the shape the issue asks for plus the fleet's when there is one. */
export function reportJson(report: BenchReport): unknown {
  return {
    scenarios: report.results.map((result) => ({
      name: result.name,
      netid_rps: round(result.netid.rps, 1),
      reference_rps: round(result.reference?.rps, 1),
      ratio: round(ratio(result.netid.rps, result.reference?.rps ?? Number.NaN)),
      p50_ms: round(result.netid.p50),
      p99_ms: round(result.netid.p99),
      errors: result.netid.errors,
      reference_p50_ms: round(result.reference?.p50),
      reference_p99_ms: round(result.reference?.p99),
      reference_errors: result.reference?.errors ?? null,
      netid_cpu_ms_per_op: round(result.netid.cpuMsPerOp?.server ?? Number.NaN, 3),
      postgres_cpu_ms_per_op: round(result.netid.cpuMsPerOp?.postgres ?? Number.NaN, 3),
      reference_cpu_ms_per_op: round(result.reference?.cpuMsPerOp?.server ?? Number.NaN, 3),
      ...(result.fleet
        ? {
            fleet_rps: round(result.fleet.rps, 1),
            fleet_p99_ms: round(result.fleet.p99),
            fleet_errors: result.fleet.errors,
            scaling: round(ratio(result.fleet.rps, result.netid.rps)),
          }
        : {}),
      ...Object.fromEntries(Object.entries(result.extra ?? {}).map(([name, value]) => [name, round(value, 1)])),
    })),
    rss_mb: round(report.rssMb[0] ?? Number.NaN, 1),
    fleet_rss_mb: report.rssMb.slice(1).map((mb) => round(mb, 1)),
    model_rows_before: report.modelRowsBefore,
    model_rows_after: report.modelRowsAfter,
    expired_rows_after: report.expiredRowsAfter,
    settings: { ...report.settings, cores: os.cpus().length, node: process.version },
  };
}
