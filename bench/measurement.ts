/** One server under one scenario for one repeat. */
export interface Measurement {
  /** Successful operations per second (2xx answers, or completed sign-ins). */
  rps: number;
  /** How many there were. */
  operations: number;
  /** Latency of successful operations, in milliseconds. */
  p50: number;
  p99: number;
  /** Failed operations: non-2xx answers, wrong bodies, connection errors and timeouts. */
  errors: number;
  /** What the errors were (status code or step and message) and how many of each. */
  errorKinds: Record<string, number>;
  /**
   * CPU milliseconds per successful operation spent by the server's processes
   * and by PostgreSQL: unlike the rate, hardly moved by whatever else the
   * machine is running, so it is what shows a change in the code.
   */
  cpuMsPerOp?: { server: number; postgres: number } | undefined;
}

export function percentile(sorted: number[], fraction: number): number {
  if (!sorted.length) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (!sorted.length) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Latencies of successful operations and counts of failures, turned into a Measurement. */
export class Recorder {
  private readonly latencies: number[] = [];
  private readonly kinds: Record<string, number> = {};
  private failures = 0;

  success(latencyMs: number): void {
    this.latencies.push(latencyMs);
  }

  failure(kind: string): void {
    this.failures += 1;
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
  }

  finish(seconds: number): Measurement {
    const sorted = this.latencies.sort((a, b) => a - b);
    return {
      rps: sorted.length / seconds,
      operations: sorted.length,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      errors: this.failures,
      errorKinds: this.kinds,
    };
  }
}

/** Medians over repeats for the rates and latencies; errors add up, since one bad repeat matters. */
export function combine(measurements: Measurement[]): Measurement {
  const errorKinds: Record<string, number> = {};
  for (const measurement of measurements) {
    for (const [kind, count] of Object.entries(measurement.errorKinds)) errorKinds[kind] = (errorKinds[kind] ?? 0) + count;
  }
  return {
    rps: median(measurements.map((m) => m.rps)),
    operations: measurements.reduce((sum, m) => sum + m.operations, 0),
    p50: median(measurements.map((m) => m.p50)),
    p99: median(measurements.map((m) => m.p99)),
    errors: measurements.reduce((sum, m) => sum + m.errors, 0),
    errorKinds,
    cpuMsPerOp: measurements.every((m) => m.cpuMsPerOp)
      ? {
          server: median(measurements.map((m) => m.cpuMsPerOp!.server)),
          postgres: median(measurements.map((m) => m.cpuMsPerOp!.postgres)),
        }
      : undefined,
  };
}
