import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import type { RegisteredClient } from '../../src/clients/client-service.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { createLogger } from '../../src/logging.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, createTestClient, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient, exchangeCode, signInThroughForms, startAuthorization } from '../support/relying-party.js';
import { startTcpForwarder, type TcpForwarder } from '../support/tcp-forwarder.js';
import { UserAgent } from '../support/user-agent.js';

const RETRY_MESSAGE = 'NetID cannot reach its storage right now. Try again in a moment.';
/** An answer, not a hang: well under knex's 10 s wait for a pooled connection. */
const PROMPT_MS = 5000;

/**
 * PostgreSQL only: the embedded PGlite database lives inside NetID's process
 * and cannot go away by itself. NetID reaches the test's PostgreSQL server
 * through a TCP hop the test cuts, as a network fault or a server restart
 * would.
 */
describe('while PostgreSQL cannot be reached, relying parties get JSON and people a page saying to try again (PostgreSQL only)', () => {
  let database: TestDatabase;
  let forwarder: TcpForwarder;
  let pool: Database;
  let netid: RunningNetid;
  let person: TestPerson;
  let account: CreatedAccount;
  let client: oidc.Configuration;
  let service: RegisteredClient;
  let serviceClient: oidc.Configuration;
  let agent: UserAgent;
  let tokens: oidc.TokenEndpointResponse;
  let interactionUrl: string;
  let authorizationUrl: URL;
  /** What the database's logger wrote: one JSON object per line, as an operator's log collector reads them. */
  const databaseLog: Record<string, unknown>[] = [];
  const consoleLog = jest.spyOn(console, 'log');

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const direct = new URL(database.databaseUrl!);
    forwarder = await startTcpForwarder({ host: direct.hostname, port: Number(direct.port) });
    const throughForwarder = new URL(direct);
    throughForwarder.port = String(forwarder.port);
    const lines = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) databaseLog.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    pool = await createDatabase({ databaseUrl: throughForwarder.toString(), logger: createLogger('warn', lines) });
    netid = await startNetid(pool);

    person = await createPerson(netid.context);
    account = await createTestAccount(netid.context, person);
    client = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    service = await createTestClient(netid.context, { name: 'Reporting service', grantTypes: ['client_credentials'] });
    serviceClient = await discoverAsClient(netid.issuer, service.clientId, service.clientSecret);
    const redirectUri = (accountClientUris(netid.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;

    agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri, { scope: 'openid offline_access', prompt: 'consent' });
    tokens = await exchangeCode(client, await signInThroughForms(agent, pending.url, person.email, person.password), pending);
    // A sign-in screen left open, and the start of another sign-in, to come back to while the database is away.
    const again = await startAuthorization(client, redirectUri, { prompt: 'login' });
    interactionUrl = (await agent.page(again.url.toString())).url;
    authorizationUrl = (await startAuthorization(client, redirectUri, { prompt: 'login' })).url;
  });

  afterAll(async () => {
    consoleLog.mockRestore();
    await forwarder?.restore();
    await netid?.stop();
    await pool?.destroy();
    await forwarder?.close();
    await database?.dispose();
  });

  /** Runs `call`, checking it answered promptly. */
  async function prompt<T>(call: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const result = await call();
    expect(Date.now() - started).toBeLessThan(PROMPT_MS);
    return result;
  }

  /**
   * The answer behind openid-client's error. It reads the `error` member only
   * from 4xx answers (RFC 6749 5.2) and hands any other status over as the
   * response itself, which is where a relying party finds the 503.
   */
  async function refusal(call: () => Promise<unknown>): Promise<Response> {
    const failure = await prompt(() => call().then(() => undefined, (error: unknown) => error));
    expect(failure).toMatchObject({ code: 'OAUTH_RESPONSE_IS_NOT_CONFORM' });
    return (failure as { cause: Response }).cause;
  }

  const basic = (clientId: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  async function expectTemporarilyUnavailable(response: Response): Promise<void> {
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await response.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  }

  async function expectRetryPage(response: Response | { status: number; html: string }): Promise<void> {
    expect(response.status).toBe(503);
    const html = 'html' in response ? response.html : await response.text();
    expect(html).toContain(RETRY_MESSAGE);
    expect(html).not.toMatch(/at \w+ \(|node_modules/);
  }

  test('relying parties get temporarily_unavailable in JSON, people a page, and all works again once it is back', async () => {
    await forwarder.cut();

    await expectTemporarilyUnavailable(await refusal(() => oidc.refreshTokenGrant(client, tokens.refresh_token!)));
    await expectTemporarilyUnavailable(await refusal(() => oidc.clientCredentialsGrant(serviceClient)));

    // JSON whatever the Accept header asks for.
    const asBrowser = { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' };
    await expectTemporarilyUnavailable(
      await prompt(() =>
        fetch(`${netid.issuer}/token`, {
          method: 'POST',
          headers: { ...asBrowser, authorization: basic(account.clientId, account.clientSecret) },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
        }),
      ),
    );
    await expectTemporarilyUnavailable(
      await prompt(() =>
        fetch(`${netid.issuer}/token`, {
          method: 'POST',
          headers: { ...asBrowser, authorization: basic(service.clientId, service.clientSecret!) },
          body: new URLSearchParams({ grant_type: 'client_credentials' }),
        }),
      ),
    );
    await expectTemporarilyUnavailable(
      await prompt(() =>
        fetch(`${netid.issuer}/token/introspection`, {
          method: 'POST',
          headers: { ...asBrowser, authorization: basic(account.clientId, account.clientSecret) },
          body: new URLSearchParams({ token: tokens.access_token }),
        }),
      ),
    );
    await expectTemporarilyUnavailable(await refusal(() => oidc.tokenIntrospection(client, tokens.access_token)));
    await expectTemporarilyUnavailable(
      await prompt(() =>
        fetch(`${netid.issuer}/token/revocation`, {
          method: 'POST',
          headers: { ...asBrowser, authorization: basic(account.clientId, account.clientSecret) },
          body: new URLSearchParams({ token: tokens.refresh_token! }),
        }),
      ),
    );
    await expectTemporarilyUnavailable(
      await prompt(() =>
        fetch(`${netid.issuer}/request`, {
          method: 'POST',
          headers: { ...asBrowser, authorization: basic(account.clientId, account.clientSecret) },
          body: new URLSearchParams(authorizationUrl.searchParams),
        }),
      ),
    );
    await expectTemporarilyUnavailable(
      await prompt(() => fetch(`${netid.issuer}/me`, { headers: { accept: 'text/html', authorization: `Bearer ${tokens.access_token}` } })),
    );

    // Discovery and the keys need no database.
    expect((await fetch(`${netid.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    expect((await fetch(`${netid.issuer}/jwks`)).status).toBe(200);

    // People: the sign-in screen, an authorization request, the network profile.
    await expectRetryPage(await prompt(() => agent.page(interactionUrl)));
    await expectRetryPage(await prompt(() => agent.page(authorizationUrl.toString())));
    await expectRetryPage(await prompt(() => agent.page(`${netid.issuer}/network`)));

    const readiness = await prompt(() => fetch(`${netid.issuer}/readyz`));
    expect(readiness.status).toBe(503);

    await forwarder.restore();
    const refreshed = await oidc.refreshTokenGrant(client, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeDefined();
    expect((await oidc.tokenIntrospection(client, refreshed.access_token)).active).toBe(true);
    expect((await fetch(`${netid.issuer}/readyz`)).status).toBe(200);
  });

  test('a server that stops answering altogether still gets relying parties their 503 within seconds', async () => {
    await forwarder.stall();
    await expectTemporarilyUnavailable(await refusal(() => oidc.clientCredentialsGrant(serviceClient)));
    expect((await prompt(() => fetch(`${netid.issuer}/readyz`))).status).toBe(503);

    await forwarder.restore();
    expect((await oidc.clientCredentialsGrant(serviceClient)).access_token).toEqual(expect.any(String));
  });

  test("the lost connections reach the operator's log as NetID's own lines, not the console", () => {
    const lost = databaseLog.filter((line) => line.component === 'database' && line.service === 'netid');
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.every((line) => Number(line.level) >= 40 && typeof line.msg === 'string')).toBe(true);
    expect(consoleLog.mock.calls.filter((call) => /connection/i.test(String(call[0])))).toEqual([]);
  });
});
