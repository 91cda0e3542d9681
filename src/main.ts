// The entry point. Tracing, when configured, has to hook `http`, `pg` and `koa`
// before anything loads them, so the server is imported only after it, and
// without OTEL_EXPORTER_OTLP_ENDPOINT no OpenTelemetry module is loaded at all.
let flushTraces: (() => Promise<void>) | undefined;
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
  const { startTracing } = await import('./operations/tracing.js');
  flushTraces = await startTracing();
}
const { serve } = await import('./serve.js');
serve({ beforeExit: flushTraces });
