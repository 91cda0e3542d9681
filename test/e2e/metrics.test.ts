import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import { startMetricsServer, type MetricsServer } from '../../src/operations/metrics-endpoint.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient, exchangeCode, signInThroughForms, startAuthorization } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

const TOKEN = 'metrics-token-for-tests-0123456789abcdef';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition, as a scraper reads them. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of one series, 0 when it is absent. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const sample = samples.find((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));
  return sample?.value ?? 0;
}

describe.each(backends)('metrics an operator scrapes and alerts on (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db, { env: { METRICS_TOKEN: TOKEN } });
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  const scrape = async (): Promise<Sample[]> => {
    const response = await fetch(`${netid.issuer}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await response.text());
  };

  test('/metrics on the main port answers 401 and reveals nothing without its bearer token', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, TOKEN]) {
      const response = await fetch(`${netid.issuer}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await response.text()).not.toContain('netid_');
    }
  });

  test('a sign-in, a refresh and throttled guessing move their counters; routes are templates, never ids', async () => {
    const before = await scrape();
    const person = await createPerson(netid.context);
    const account = await createTestAccount(netid.context, person);
    const client = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    const redirectUri = (accountClientUris(netid.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;

    const pending = await startAuthorization(client, redirectUri, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchangeCode(client, await signInThroughForms(new UserAgent(netid.issuer), pending.url, person.email, person.password), pending);
    await oidc.refreshTokenGrant(client, tokens.refresh_token!);

    // Wrong passwords until the address has to wait (five are free).
    const guesser = new UserAgent(netid.issuer);
    let throttled = false;
    for (let attempt = 0; attempt < 8 && !throttled; attempt += 1) {
      const guess = await startAuthorization(client, redirectUri);
      const login = await guesser.page(guess.url.toString());
      const answer = await guesser.submit(login, 'form[action$="/login"]', { identifier: person.email, password: `wrong guess ${attempt}` });
      throttled = 'status' in answer && answer.status === 429;
    }
    expect(throttled).toBe(true);

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(moved('netid_sign_ins_total', { outcome: 'success' })).toBe(1);
    expect(moved('netid_sign_ins_total', { outcome: 'wrong_password' })).toBe(5);
    expect(moved('netid_sign_ins_total', { outcome: 'throttled' })).toBe(1);
    expect(valueOf(after, 'netid_sign_ins_total', { outcome: 'second_factor' })).toBe(0);
    // The wrong guesses never got past their password: only the one sign-in reached the relying party.
    expect(moved('netid_sign_ins_completed_total', { method: 'password', factors: '1' })).toBe(1);
    expect(moved('netid_sign_ins_completed_total', { method: 'password', factors: '2' })).toBe(0);
    // Every method is there from the start, so a rate() over one that has not happened yet is 0, not absent.
    const methods = after.filter((sample) => sample.name === 'netid_sign_ins_completed_total').map((sample) => sample.labels.method);
    expect(new Set(methods)).toEqual(new Set(['password', 'passkey', 'federated']));
    expect(moved('netid_rate_limit_refusals_total', { limit: 'sign_in_delay' })).toBe(1);
    expect(moved('netid_tokens_issued_total', { grant_type: 'authorization_code', client_kind: 'account' })).toBe(1);
    expect(moved('netid_tokens_issued_total', { grant_type: 'refresh_token', client_kind: 'account' })).toBe(1);
    expect(moved('netid_http_request_duration_seconds_count', { method: 'POST', route: '/interaction/:uid/login', status_class: '4xx' })).toBe(6);
    expect(moved('netid_http_request_duration_seconds_count', { method: 'POST', route: '/token', status_class: '2xx' })).toBe(2);

    // No label holds an id: not an interaction's, a profile's, a client's, nor an account's name.
    const ids = [
      person.profile.id,
      account.clientId,
      account.account.name,
      ...(await database.db('oidc_models').where('model', 'Interaction').pluck('id')),
    ];
    expect(ids.length).toBeGreaterThan(4);
    const routes = [...new Set(after.filter((s) => s.name.startsWith('netid_http_request_duration_seconds')).map((s) => s.labels.route!))];
    expect(routes).toEqual(expect.arrayContaining(['/interaction/:uid', '/interaction/:uid/login', '/auth', '/auth/:uid', '/token']));
    for (const route of routes) {
      for (const id of ids) expect(route).not.toContain(id);
    }
  });

  test('the outbox, the database pool and the process are measured when scraped', async () => {
    const samples = await scrape();
    expect(samples.find((s) => s.name === 'netid_outbox_pending_messages')?.value).toBeGreaterThanOrEqual(0);
    expect(samples.find((s) => s.name === 'netid_outbox_oldest_pending_age_seconds')?.value).toBeGreaterThanOrEqual(0);
    const pool = samples.filter((s) => s.name === 'netid_db_pool_connections').map((s) => s.labels.state);
    expect(pool.sort()).toEqual(['idle', 'used', 'waiting']);
    // Nothing holds a connection between requests.
    expect(valueOf(samples, 'netid_db_pool_connections', { state: 'waiting' })).toBe(0);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    expect(samples.some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);
  });

  describe('with METRICS_PORT, a listen address of their own', () => {
    let separate: RunningNetid;
    let server: MetricsServer;

    beforeAll(async () => {
      separate = await startNetid(database.db, { env: { METRICS_PORT: '9464', METRICS_TOKEN: TOKEN } });
      // As src/serve.ts starts it from METRICS_HOST and METRICS_PORT; port 0 here so tests never collide.
      server = await startMetricsServer(separate.context.metrics, { host: '127.0.0.1', port: 0, token: undefined });
    });

    afterAll(async () => {
      await server?.close();
      await separate?.stop();
    });

    test('the public port does not serve /metrics at all, token or not', async () => {
      for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
        const response = await fetch(`${separate.issuer}/metrics`, { headers });
        expect(response.status).toBe(404);
        expect(await response.text()).not.toContain('netid_');
      }
    });

    test('the metrics address serves the exposition and nothing else', async () => {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(response.status).toBe(200);
      expect(parseExposition(await response.text()).some((s) => s.name === 'netid_sign_ins_total')).toBe(true);
      expect((await fetch(`http://127.0.0.1:${server.port}/.well-known/openid-configuration`)).status).toBe(404);
    });

    test('with METRICS_TOKEN, the metrics address asks for it too', async () => {
      const guarded = await startMetricsServer(separate.context.metrics, { host: '127.0.0.1', port: 0, token: TOKEN });
      try {
        expect((await fetch(`http://127.0.0.1:${guarded.port}/metrics`)).status).toBe(401);
        expect((await fetch(`http://127.0.0.1:${guarded.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      } finally {
        await guarded.close();
      }
    });
  });
});
