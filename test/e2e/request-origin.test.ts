import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { rawRequest } from '../support/raw-http.js';

const DISCOVERY = '/.well-known/openid-configuration';

/** Every URL discovery publishes (issuer, endpoints, JWKS). */
function publishedUrls(discovery: Record<string, unknown>): string[] {
  return Object.entries(discovery)
    .filter(([name, value]) => typeof value === 'string' && (name === 'issuer' || name.endsWith('_endpoint') || name === 'jwks_uri'))
    .map(([, value]) => value as string);
}

describe.each(backends)('what NetID publishes and whom it believes about a request (%s)', (backend) => {
  let database: TestDatabase;
  let proxiedDatabase: TestDatabase;
  let netid: RunningNetid;
  let proxied: RunningNetid;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    // An installation behind one trusted reverse proxy (its own database: its ISSUER differs).
    proxiedDatabase = await createTestDatabase(backend);
    proxied = await startNetid(proxiedDatabase.db, { env: { TRUST_PROXY: 'true' } });
  });

  afterAll(async () => {
    await proxied?.stop();
    await netid?.stop();
    await proxiedDatabase?.dispose();
    await database?.dispose();
  });

  test('discovery names ISSUER in every URL whatever Host the request claims, and may be cached', async () => {
    const claims: Record<string, string>[] = [{ host: 'evil.example' }, { host: 'evil.example:8443', 'x-forwarded-host': 'attacker.example', 'x-forwarded-proto': 'https' }];
    for (const headers of claims) {
      const response = await rawRequest(`${netid.issuer}${DISCOVERY}`, { headers });
      expect(response.status).toBe(200);
      const urls = publishedUrls(JSON.parse(response.body) as Record<string, unknown>);
      expect(urls.length).toBeGreaterThan(6);
      for (const url of urls) expect(url.startsWith(`${netid.issuer}/`) || url === netid.issuer).toBe(true);
      expect(response.headers['cache-control']).toBe('public, max-age=300');
    }
  });

  test('behind a trusted proxy, X-Forwarded-Host and -Proto do not move the published URLs either', async () => {
    const response = await rawRequest(`${proxied.issuer}${DISCOVERY}`, {
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
    });
    const discovery = JSON.parse(response.body) as Record<string, unknown>;
    expect(discovery.token_endpoint).toBe(`${proxied.issuer}/token`);
    expect(discovery.jwks_uri).toBe(`${proxied.issuer}/jwks`);
  });

  test('JWKS may be cached for as long as discovery', async () => {
    const response = await rawRequest(`${netid.issuer}/jwks`, { headers: { host: 'evil.example' } });
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('public, max-age=300');
  });

  test('the sign-in screen and the network pages send the browser to ISSUER, not to the Host it claimed', async () => {
    const signIn = await rawRequest(`${netid.issuer}/network/sign-in`, { headers: { host: 'evil.example' } });
    expect(signIn.status).toBe(302);
    expect(signIn.headers.location?.startsWith(`${netid.issuer}/auth?`)).toBe(true);
    const posted = await rawRequest(`${netid.issuer}/auth`, {
      method: 'POST',
      headers: { host: 'evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'client_id=netid-network&response_type=none&scope=openid',
    });
    expect(posted.headers.location?.startsWith(`${netid.issuer}/auth?`)).toBe(true);
  });

  describe('the client address that sign-in limits and the audit trail use', () => {
    const people = new Map<RunningNetid, TestPerson>();

    beforeAll(async () => {
      for (const server of [netid, proxied]) people.set(server, await createPerson(server.context));
    });

    /** Fails one sign-in through the network pages with these headers and returns the address NetID recorded for it. */
    async function failedSignInAddress(server: RunningNetid, headers: Record<string, string>): Promise<string> {
      const start = await fetch(`${server.issuer}/network/sign-in`, { redirect: 'manual' });
      const authorization = start.headers.get('location')!;
      const toInteraction = await fetch(authorization, { redirect: 'manual' });
      const interaction = new URL(toInteraction.headers.get('location')!, server.issuer);
      const cookies = toInteraction.headers.getSetCookie().map((cookie) => cookie.split(';')[0]).join('; ');
      const form = await fetch(interaction, { headers: { cookie: cookies } });
      const html = await form.text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
      const csrfCookie = form.headers.getSetCookie().map((cookie) => cookie.split(';')[0]).join('; ');
      const before = await server.context.db('audit_events').max({ id: 'id' }).first();
      const answer = await rawRequest(`${interaction.toString()}/login`, {
        method: 'POST',
        headers: { cookie: `${cookies}; ${csrfCookie}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ csrf, identifier: people.get(server)!.email, password: 'not the password' }).toString(),
      });
      expect(answer.status).toBe(401);
      const event = await server.context.db('audit_events').where('id', '>', before?.id ?? 0).andWhere({ kind: 'signin.failed' }).first('ip');
      return event.ip;
    }

    test('without a trusted proxy, X-Forwarded-For is ignored: the address is the connection\'s', async () => {
      expect(await failedSignInAddress(netid, { 'x-forwarded-for': '203.0.113.7' })).toBe('127.0.0.1');
    });

    test('behind one trusted proxy, the address is the one that proxy appended, not what the client put before it', async () => {
      expect(await failedSignInAddress(proxied, { 'x-forwarded-for': '203.0.113.7, 198.51.100.9' })).toBe('198.51.100.9');
      expect(await failedSignInAddress(proxied, { 'x-forwarded-for': '192.0.2.44, 198.51.100.9' })).toBe('198.51.100.9');
      expect(await failedSignInAddress(proxied, {})).toBe('127.0.0.1');
    });
  });

  describe('no page NetID answers with can be framed by another site', () => {
    function expectUnframeable(response: { headers: Record<string, unknown> }) {
      expect(String(response.headers['content-security-policy'])).toMatch(/frame-ancestors 'none'/);
      expect(response.headers['x-frame-options']).toBe('DENY');
    }

    test("oidc-provider's sign-out confirmation", async () => {
      const response = await rawRequest(`${netid.issuer}/session/end`);
      expect(response.status).toBe(200);
      expect(response.body).toContain('<form');
      expectUnframeable(response);
    });

    test('the error page of the authorization endpoint', async () => {
      const response = await rawRequest(`${netid.issuer}/auth?client_id=nobody&response_type=code&scope=openid`);
      expect(response.status).toBe(400);
      expectUnframeable(response);
    });

    test('the form_post page that carries an answer back to a relying party', async () => {
      const person = await createPerson(netid.context);
      const account = await createTestAccount(netid.context, person);
      const metadata = await netid.context.queries.clients.findMetadata(account.clientId);
      const response = await rawRequest(
        `${netid.issuer}/auth?${new URLSearchParams({
          client_id: account.clientId,
          redirect_uri: (metadata!.redirect_uris as string[])[0]!,
          response_type: 'code',
          response_mode: 'form_post',
          scope: 'openid',
          // PKCE with "plain" is refused, and the refusal goes back to the relying party as a form_post page.
          code_challenge: 'x'.repeat(43),
          code_challenge_method: 'plain',
        }).toString()}`,
      );
      expect(response.body).toContain('<form method="post"');
      expect(response.body).toContain('invalid_request');
      expectUnframeable(response);
      // The page's own script still runs: its policy keeps the hash oidc-provider put there.
      expect(String(response.headers['content-security-policy'] ?? '')).not.toMatch(/script-src 'none'/);
    });

    test("NetID's own pages and its not-found page", async () => {
      expectUnframeable(await rawRequest(`${netid.issuer}/network/sign-in`));
      const missing = await rawRequest(`${netid.issuer}/network/no-such-page`);
      expectUnframeable(missing);
      const unknown = await rawRequest(`${netid.issuer}/no-such-page`, { headers: { accept: 'text/html' } });
      expect(unknown.status).toBe(404);
    });
  });
});
