import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { runCommand, UsageError, type Values } from '../../src/operator-commands.js';
import type { ResourceServer } from '../../src/db/resource-servers.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, createTestClient, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient, exchangeCode, signInThroughForms, startAuthorization } from '../support/relying-party.js';
import { isPage, UserAgent } from '../support/user-agent.js';

let serial = 0;
const nextIdentifier = (path: string) => `https://api.netid.test/${path}${(serial += 1)}`;

describe.each(backends)('access tokens for resource servers (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let admin: TestPerson;
  let account: CreatedAccount;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    admin = await createPerson(netid.context);
    account = await createTestAccount(netid.context, admin);
    jwks = createRemoteJWKSet(new URL(`${netid.issuer}/jwks`));
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  const operator = (positionals: string[], values: Values) => runCommand(netid.context, positionals, values);
  const register = (values: Values) => operator(['resource-server', 'register'], values) as Promise<ResourceServer>;

  async function serviceClient(name: string) {
    const service = await createTestClient(netid.context, { name, grantTypes: ['client_credentials'] });
    return { id: service.clientId, config: await discoverAsClient(netid.issuer, service.clientId, service.clientSecret) };
  }

  /** What a resource server does with a JWT access token: check it against NetID's JWKS, nothing else. */
  async function verifyAtResourceServer(token: string, audience: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, jwks, { issuer: netid.issuer, audience, typ: 'at+jwt' });
    return payload;
  }

  test('a service client gets a JWT access token that the resource server verifies with the JWKS alone', async () => {
    const service = await serviceClient('Reporting job');
    const identifier = nextIdentifier('reports');
    await register({ identifier, name: 'Reports API', scope: ['reports:read', 'reports:write'], client: [service.id] });

    const tokens = await oidc.clientCredentialsGrant(service.config, { resource: identifier, scope: 'reports:read unknown:scope' });
    expect(tokens.expires_in).toBe(300);
    const claims = await verifyAtResourceServer(tokens.access_token, identifier);
    expect(claims).toMatchObject({ sub: service.id, client_id: service.id, scope: 'reports:read' });
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe('RS256');
    // Meant for one API only: another audience does not accept it.
    await expect(verifyAtResourceServer(tokens.access_token, nextIdentifier('other'))).rejects.toThrow(/aud/);
  });

  test('a resource server that is unknown, or not open to the client, is invalid_target until the operator allows it', async () => {
    const allowed = await serviceClient('Allowed job');
    const other = await serviceClient('Other job');
    const identifier = nextIdentifier('billing');
    await register({ identifier, name: 'Billing API', scope: ['billing:read'], client: [allowed.id] });

    await expect(oidc.clientCredentialsGrant(other.config, { resource: identifier, scope: 'billing:read' })).rejects.toMatchObject({
      error: 'invalid_target',
    });
    await expect(
      oidc.clientCredentialsGrant(allowed.config, { resource: nextIdentifier('nowhere'), scope: 'billing:read' }),
    ).rejects.toMatchObject({ error: 'invalid_target' });

    const after = (await operator(['resource-server', 'allow'], { identifier, client: [other.id] })) as ResourceServer;
    expect(after.clientIds).toEqual([allowed.id, other.id].sort());
    const tokens = await oidc.clientCredentialsGrant(other.config, { resource: identifier, scope: 'billing:read' });
    expect(await verifyAtResourceServer(tokens.access_token, identifier)).toMatchObject({ client_id: other.id });
  });

  test("an account's client gets a userinfo token with the code and a resource server's JWT on refresh", async () => {
    const identifier = nextIdentifier('tasks');
    await register({ identifier, name: 'Tasks API', scope: ['tasks:read'], client: [account.clientId], alg: 'ES256', ttl: '600' });
    const client = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    const redirectUri = `https://${account.account.name}.bitrix24.test/oauth/netid/callback`;
    const pending = await startAuthorization(client, redirectUri, {
      scope: 'openid profile offline_access tasks:read',
      resource: identifier,
      // OIDC Core 11: offline_access counts only with prompt=consent.
      prompt: 'consent',
    });
    const callback = await signInThroughForms(new UserAgent(netid.issuer), pending.url, admin.email, admin.password);

    // Without `resource` at the token endpoint, the access token is for userinfo, as for any relying party.
    const tokens = await exchangeCode(client, callback, pending);
    expect(tokens.scope?.split(' ')).not.toContain('tasks:read');
    const userinfo = await oidc.fetchUserInfo(client, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo.sub).toBe(admin.profile.id);

    const refreshed = await oidc.refreshTokenGrant(client, tokens.refresh_token!, { resource: identifier });
    expect(decodeProtectedHeader(refreshed.access_token).alg).toBe('ES256');
    const claims = await verifyAtResourceServer(refreshed.access_token, identifier);
    expect(claims).toMatchObject({ sub: admin.profile.id, client_id: account.clientId, scope: 'tasks:read' });
    expect(claims.exp! - claims.iat!).toBe(600);
    // The ID token that came with it is still the account's, signed as the account expects.
    expect(refreshed.claims()).toMatchObject({ sub: admin.profile.id, aud: account.clientId });
  });

  test('a third-party client asking to call an API as the person shows it on the consent page, and gets it once allowed', async () => {
    const redirectUri = 'https://planner.example.test/callback';
    const registered = await createTestClient(netid.context, { name: 'Planner', redirectUris: [redirectUri] });
    const identifier = nextIdentifier('calendar');
    await register({ identifier, name: 'Calendar API', scope: ['calendar:read', 'calendar:write'], client: [registered.clientId] });
    const planner = await discoverAsClient(netid.issuer, registered.clientId, registered.clientSecret);

    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(planner, redirectUri, { scope: 'openid calendar:read', resource: identifier });
    const login = await agent.page(pending.url.toString());
    const consent = await agent.submit(login, 'form[action$="/login"]', { identifier: admin.email, password: admin.password });
    if (!isPage(consent)) throw new Error(`expected the consent page, was sent to ${consent.location.toString()}`);
    expect(consent.document.querySelectorAll('ul.scopes li').map((item) => item.text.trim())).toEqual([
      'Know who you are in the Bitrix24 Network',
      'Use Calendar API as you (calendar:read)',
    ]);

    const approval = await agent.submit(consent, 'form[action$="/consent"]', { decision: 'allow' });
    if (isPage(approval)) throw new Error(`expected a redirect to the client, got ${approval.status}`);
    const tokens = await oidc.authorizationCodeGrant(
      planner,
      approval.location,
      { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true },
      { resource: identifier },
    );
    expect(await verifyAtResourceServer(tokens.access_token, identifier)).toMatchObject({ sub: admin.profile.id, scope: 'calendar:read' });
  });

  test('an opaque access token to a resource server introspects with its audience and scope', async () => {
    const service = await serviceClient('Audit job');
    const identifier = nextIdentifier('audit');
    await register({ identifier, name: 'Audit API', scope: ['audit:read'], client: [service.id], format: 'opaque' });

    const tokens = await oidc.clientCredentialsGrant(service.config, { resource: identifier, scope: 'audit:read' });
    expect(tokens.access_token.split('.')).toHaveLength(1);
    expect(tokens.expires_in).toBe(3600);
    expect(await oidc.tokenIntrospection(service.config, tokens.access_token)).toMatchObject({
      active: true,
      aud: identifier,
      scope: 'audit:read',
      client_id: service.id,
    });
  });

  test('the operator is told what is wrong with a registration, and nothing is stored', async () => {
    const service = await serviceClient('Some job');
    const attempts: [Values, RegExp][] = [
      [{ identifier: 'http://api.example.com/', name: 'Plain', scope: ['a:read'] }, /https/],
      [{ identifier: 'https://api.example.com/#part', name: 'Fragment', scope: ['a:read'] }, /fragment/],
      [{ identifier: 'api.example.com', name: 'Relative', scope: ['a:read'] }, /absolute URI/],
      [{ identifier: nextIdentifier('x'), name: 'Takes openid', scope: ['openid'] }, /answered by NetID/],
      [{ identifier: nextIdentifier('x'), name: 'No scopes', scope: [] }, /--scope is required/],
      [{ identifier: nextIdentifier('x'), name: 'Long', scope: ['a:read'], ttl: '100000' }, /--ttl/],
      [{ identifier: nextIdentifier('x'), name: 'Format', scope: ['a:read'], format: 'paseto' }, /--format/],
      [{ identifier: nextIdentifier('x'), name: 'Stranger', scope: ['a:read'], client: [service.id, 'no-such-client'] }, /no-such-client/],
    ];
    for (const [values, message] of attempts) {
      const attempt = register(values);
      await expect(attempt).rejects.toBeInstanceOf(UsageError);
      await expect(attempt).rejects.toThrow(message);
    }
    const listed = ((await operator(['resource-server', 'list'], {})) as ResourceServer[]).map((server) => server.name);
    for (const [values] of attempts) expect(listed).not.toContain(values.name);

    const identifier = nextIdentifier('twice');
    await register({ identifier, name: 'Once', scope: ['a:read'] });
    await expect(register({ identifier, name: 'Twice', scope: ['a:read'] })).rejects.toThrow(/already registered/);
  });
});
