import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startNetidProcess, type NetidProcess } from '../support/netid-process.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { waitFor } from '../support/wait.js';

const CENSUS = path.resolve(import.meta.dirname, '../support/module-census.mjs');

/** The OpenTelemetry modules the process reported loading as it exited (test/support/module-census.mjs). */
function openTelemetryModules(stderr: string): string[] {
  const line = /^module-census opentelemetry (.*)$/m.exec(stderr);
  if (!line) throw new Error(`the process did not report its modules:\n${stderr}`);
  return JSON.parse(line[1]!) as string[];
}

describe('tracing with OpenTelemetry, when OTEL_EXPORTER_OTLP_ENDPOINT is set (postgres)', () => {
  let database: TestDatabase | undefined;
  let netid: NetidProcess | undefined;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>> | undefined;

  afterAll(async () => {
    await netid?.stop();
    await receiver?.close();
    await database?.dispose();
  });

  test('a request arrives at the collector as an HTTP server span, with the database calls it made inside its trace', async () => {
    database = await createTestDatabase('postgres');
    receiver = await startOtlpReceiver();
    netid = await startNetidProcess(
      {
        DATABASE_URL: database.databaseUrl!,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Export every tenth of a second rather than every five, so the test waits little.
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      [CENSUS],
    );

    // An unknown client: oidc-provider looks it up in the database before it refuses.
    const response = await fetch(`${netid.issuer}/token?probe=query-secret`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('nobody:secret').toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    expect(response.status).toBe(401);

    const spans = receiver.spans;
    const server = await waitFor('the HTTP server span of POST /token', () =>
      spans.find((span) => span.scope === '@opentelemetry/instrumentation-http' && span.kind === 2 && (span.attributes['url.path'] ?? span.attributes['http.target']) === '/token'),
    );
    const statement = await waitFor('a database span in the same trace', () =>
      spans.find((span) => span.scope === '@opentelemetry/instrumentation-pg' && span.traceId === server.traceId),
    );
    expect(statement.attributes['db.system.name'] ?? statement.attributes['db.system']).toBe('postgresql');
    // Statements are named, their values never sent.
    expect(JSON.stringify(spans)).not.toContain('nobody:secret');
    expect(JSON.stringify(spans)).not.toContain('query-secret');
    // koa's middleware runs inside the request's span.
    expect(spans.some((span) => span.scope === '@opentelemetry/instrumentation-koa' && span.traceId === server.traceId)).toBe(true);

    const { code, stderr } = await netid.stop();
    netid = undefined;
    expect(code).toBe(0);
    expect(openTelemetryModules(stderr)).toEqual(expect.arrayContaining([expect.stringContaining('/@opentelemetry/sdk-node/')]));
  });
});

describe('without OTEL_EXPORTER_OTLP_ENDPOINT (pglite)', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'netid-untraced-'));

  afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('no OpenTelemetry SDK, exporter or instrumentation is even loaded', async () => {
    const netid = await startNetidProcess({ DATA_DIR: folder }, [CENSUS]);
    const response = await fetch(`${netid.issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const { code, stderr } = await netid.stop();
    expect(code).toBe(0);
    // Only the API, a facade that does nothing without an SDK: prom-client's CPU metric reads it for exemplars.
    const loaded = openTelemetryModules(stderr);
    expect(loaded.filter((url) => !url.includes('/node_modules/@opentelemetry/api/'))).toEqual([]);
  });
});
