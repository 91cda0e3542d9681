// Loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set (src/main.ts), before
// the server's modules, so that the instrumentations hook http, pg and koa as
// they are first loaded.
import { register } from 'node:module';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';

/** Paths scraped or polled every few seconds: spans of them would drown the requests people make. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Starts the OpenTelemetry SDK from the standard OTEL_* variables (endpoint,
 * protocol, headers, service name, resource attributes, sampler). NetID
 * exports traces only: its metrics are Prometheus's (/metrics), and its logs
 * are pino's JSON lines; an operator who wants OTLP metrics or logs too sets
 * OTEL_METRICS_EXPORTER or OTEL_LOGS_EXPORTER. Answers a function that
 * flushes the spans still buffered, for a graceful shutdown.
 */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<() => Promise<void>> {
  env.OTEL_SERVICE_NAME ??= 'netid';
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  // koa reaches NetID as an ES module; this hook lets the koa instrumentation wrap it as it loads.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const sdk = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has(new URL(request.url ?? '/', 'http://netid').pathname),
        // Query strings carry state, login hints and codes: NetID keeps them out of spans as out of its logs.
        requestHook: (span, request) => {
          if ('url' in request && request.url?.includes('?')) span.setAttribute('url.query', 'redacted');
        },
      }),
      new KoaInstrumentation(),
      // Spans name the statement, never its values: parameters hold codes, emails and token ids.
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
    ],
  });
  sdk.start();
  return () => sdk.shutdown();
}
