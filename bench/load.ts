import autocannon from 'autocannon';
import { Recorder, type Measurement } from './measurement.js';

export interface LoadSettings {
  /** Seconds of load. */
  duration: number;
  /** Concurrent connections, or virtual users for the worker loops. */
  connections: number;
}

export interface CannonRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** A successful answer's body must contain this; a 200 with the wrong content is an error too. */
  expect: string;
}

/** For requests that change from one to the next (a refresh token that rotates, the next page of a list). */
export interface DynamicRequest {
  /** The body of the next request. */
  nextBody?(): string;
  /** The path of the next request. */
  nextPath?(): string;
  /** Sees every answer, successful or not. */
  onAnswer?(status: number, body: string): void;
}

interface CannonRun {
  result: autocannon.Result;
  wrongBodies: number;
  firstBodies: Map<number, string>;
}

/** One autocannon against one origin; successful latencies go into the shared recorder. */
function runCannon(
  origin: string,
  connections: number,
  request: CannonRequest,
  duration: number,
  recorder: Recorder,
  dynamic: DynamicRequest | undefined,
): Promise<CannonRun> {
  const firstBodies = new Map<number, string>();
  let wrongBodies = 0;
  // autocannon emits 'response' right after onResponse for the same answer, so this flag carries the verdict over.
  let answerCounts = false;
  const onResponse = (status: number, body: string) => {
    const success = status >= 200 && status <= 299;
    if (!success && !firstBodies.has(status)) firstBodies.set(status, body.slice(0, 160).replace(/\s+/g, ' '));
    answerCounts = success && body.includes(request.expect);
    if (success && !answerCounts) wrongBodies += 1;
    dynamic?.onAnswer?.(status, body);
  };

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: origin,
        connections,
        duration,
        timeout: 10,
        requests: [
          {
            method: request.method,
            path: request.path,
            headers: request.headers ?? {},
            ...(request.body === undefined ? {} : { body: request.body }),
            ...(dynamic
              ? {
                  setupRequest: (next: autocannon.Request) => ({
                    ...next,
                    ...(dynamic.nextBody ? { body: dynamic.nextBody() } : {}),
                    ...(dynamic.nextPath ? { path: dynamic.nextPath() } : {}),
                  }),
                }
              : {}),
            onResponse,
          },
        ],
      },
      (error: unknown, result: autocannon.Result) => (error ? reject(error) : resolve({ result, wrongBodies, firstBodies })),
    );
    instance.on('response', (_client, _status, _bytes, ms) => {
      if (answerCounts) recorder.success(ms);
    });
  });
}

/**
 * autocannon against one endpoint, its connections spread evenly over the
 * origins. Only 2xx answers with the expected body count towards the rate;
 * everything else is an error, listed by status with the first body seen, so
 * a wrongly built request shows at once.
 */
export async function cannon(
  origins: string[],
  request: CannonRequest,
  load: LoadSettings,
  dynamic?: DynamicRequest,
): Promise<Measurement> {
  const recorder = new Recorder();
  const share = (index: number) => Math.floor(load.connections / origins.length) + (index < load.connections % origins.length ? 1 : 0);
  const runs = await Promise.all(
    origins.map((origin, index) => runCannon(origin, Math.max(1, share(index)), request, load.duration, recorder, dynamic)),
  );

  const seconds = Math.max(...runs.map((run) => run.result.duration));
  const timing = recorder.finish(seconds);
  const errorKinds: Record<string, number> = {};
  const add = (kind: string, count: number) => {
    if (count) errorKinds[kind] = (errorKinds[kind] ?? 0) + count;
  };
  let good = 0;
  let errors = 0;
  for (const { result, wrongBodies, firstBodies } of runs) {
    for (const [status, stats] of Object.entries(result.statusCodeStats ?? {})) {
      const code = Number(status);
      if (code < 200 || code > 299) add(`HTTP ${code} ${firstBodies.get(code) ?? ''}`.trim(), (stats as { count: number }).count);
    }
    add(`2xx without "${request.expect}"`, wrongBodies);
    add('timeout', result.timeouts);
    add('connection error', result.errors - result.timeouts);
    good += result['2xx'] - wrongBodies;
    errors += result.non2xx + result.errors + wrongBodies;
  }
  return { rps: good / seconds, operations: good, p50: timing.p50, p99: timing.p99, errors, errorKinds };
}

/**
 * `count` concurrent async workers repeating `task` until the time is up, for
 * what autocannon cannot drive (multi-step flows with cookies). The rate is
 * completed tasks over the whole time, including the last ones to finish.
 */
export async function workers(count: number, seconds: number, task: (worker: number) => Promise<void>): Promise<Measurement> {
  const recorder = new Recorder();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: count }, async (_, worker) => {
      while (performance.now() < deadline) {
        const begun = performance.now();
        try {
          await task(worker);
          recorder.success(performance.now() - begun);
        } catch (error) {
          recorder.failure((error instanceof Error ? error.message : String(error)).slice(0, 160));
        }
      }
    }),
  );
  return recorder.finish((performance.now() - started) / 1000);
}
