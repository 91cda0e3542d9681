import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { API_ROUTES } from '../../src/api/api-router.js';
import { ROUTE_ACCESS } from '../../src/api/permissions.js';
import type { ClientRegistration } from '../../src/clients/client-service.js';
import { OPERATOR } from '../../src/db/audit.js';
import { en } from '../../src/i18n/en.js';
import { NETWORK_CLIENT_ID } from '../../src/profile/network-session.js';
import { startBackchannelReceiver, type BackchannelReceiver } from '../support/backchannel-receiver.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { addTestMember, createPerson, createTestAccount, createTestClient, type TestPerson } from '../support/fixtures.js';
import { apiResource, callApi, clientApiToken, openApiChecker, personApiToken, type ApiAnswer } from '../support/management-api.js';
import { restartNetid, startNetid, type RunningNetid } from '../support/netid-server.js';
import { alertText } from '../support/network.js';
import { discoverAsClient, exchangeCode, signInThroughForms, startAuthorization } from '../support/relying-party.js';
import { isPage, UserAgent } from '../support/user-agent.js';
import { sleep } from '../support/wait.js';

interface Request {
  method: string;
  path: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/** A request an operator's token gets `status` for. */
type Prepared = Request & { status: number };

type Secretive = { clientId: string; clientSecret: string };

const OPERATOR_ROUTES = Object.entries(ROUTE_ACCESS)
  .filter(([, access]) => access === 'operator')
  .map(([id]) => id)
  .sort();

/** The rotation's steps change what every token of the NetID they run on is signed with: they run on one of their own. */
const ROTATION_STEPS = ['keys.add-next', 'keys.promote', 'keys.retire'];

/** The OAuth error a token request was refused with, whether in the body or in a WWW-Authenticate challenge (a 401). */
async function oauthError(request: Promise<unknown>): Promise<string | undefined> {
  try {
    await request;
    return undefined;
  } catch (error) {
    const refused = error as { error?: string; cause?: Array<{ parameters?: { error?: string } }> };
    return refused.error ?? (Array.isArray(refused.cause) ? refused.cause[0]?.parameters?.error : undefined) ?? String(error);
  }
}

const madeUpCursor = (after: string) => Buffer.from(JSON.stringify({ after })).toString('base64url');

let sequence = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(sequence += 1)}`;

/**
 * The operators' routes of the management API: who may call each (an
 * operator's service client with the operator scope) and who may not (an
 * account's back end, an account's admin signed in, a token without the
 * scope, no token), what each does as an operator sees it, how malformed
 * requests are answered, and every answer checked against the API's own
 * OpenAPI document.
 */
describe.each(backends)('the management API for operators (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let admin: TestPerson;
  let account: CreatedAccount;
  let operator: Secretive;
  let tokens: { operator: string; account: string; admin: string; personAtOperatorClient: string; withoutOperatorScope: string };
  let checker: Awaited<ReturnType<typeof openApiChecker>>;
  const receivers: BackchannelReceiver[] = [];

  const redirectOf = (created: CreatedAccount) => (accountClientUris(netid.context.config.accountUrlPattern, created.account.name).redirect_uris as string[])[0]!;

  async function call(token: string | undefined, request: Request): Promise<ApiAnswer> {
    const answer = await callApi(netid, token, request.method, request.path, request);
    checker.expectConformant(request.method, request.path, answer);
    return answer;
  }

  const asOperator = (method: string, path: string, body?: unknown) => call(tokens.operator, { method, path, body });
  const problemType = (name: string) => `${netid.issuer}/api/v1/problems#${name}`;

  async function throwawayClient(registration: Partial<ClientRegistration> = {}) {
    return createTestClient(netid.context, { name: unique('client'), grantTypes: ['client_credentials'], ...registration });
  }

  async function throwawayServer(clientIds: string[] = []): Promise<string> {
    const identifier = `https://${unique('api')}.example.test/`;
    const registered = await netid.context.services.resourceServers.register({ identifier, name: 'Orders', scopes: ['orders:read'], clientIds }, OPERATOR);
    if (!registered.ok) throw new Error(`the resource server was refused: ${registered.problem}`);
    return identifier;
  }

  const encoded = (identifier: string) => encodeURIComponent(identifier);
  const auditCount = async () => Number((await netid.context.db('audit_events').count<{ count: string }[]>('* as count'))[0]!.count);

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    // The back-channel receivers listen on loopback, which NetID reaches only when told it may.
    netid = await startNetid(database.db, { env: { OUTGOING_PRIVATE_NETWORKS: 'allow' } });
    admin = await createPerson(netid.context, { firstName: 'Ada', lastName: 'Admin' });
    account = await createTestAccount(netid.context, admin);
    const registered = await createTestClient(netid.context, { name: 'Operations', grantTypes: ['client_credentials'], operator: true });
    operator = { clientId: registered.clientId, clientSecret: registered.clientSecret! };
    // An operator's app that people sign in to: a person's token through it is still no operator's.
    const operatorApp = await createTestClient(netid.context, {
      name: 'Operations console',
      grantTypes: ['authorization_code'],
      redirectUris: ['https://console.example.test/callback'],
      firstParty: true,
      operator: true,
    });
    tokens = {
      operator: await clientApiToken(netid, operator, 'operator'),
      account: await clientApiToken(netid, account, 'account:admin'),
      admin: await personApiToken(netid, { ...account, redirectUri: redirectOf(account) }, admin),
      personAtOperatorClient: await personApiToken(
        netid,
        { clientId: operatorApp.clientId, clientSecret: operatorApp.clientSecret!, redirectUri: 'https://console.example.test/callback' },
        admin,
        'openid operator',
      ),
      withoutOperatorScope: await clientApiToken(netid, operator, 'account:admin'),
    };
    checker = await openApiChecker(netid);
  });

  afterAll(async () => {
    await netid?.stop();
    await Promise.all(receivers.map((receiver) => receiver.stop()));
    await database?.dispose();
  });

  /** For each operator route, a request an operator's token may make, with what it answers. */
  const operatorCalls: Record<string, () => Promise<Prepared>> = {
    'accounts.list': async () => ({ method: 'GET', path: '/accounts', status: 200 }),
    'accounts.create': async () => ({ method: 'POST', path: '/accounts', body: { admin_profile_id: (await createPerson(netid.context)).profile.id }, status: 201 }),
    'clients.list': async () => ({ method: 'GET', path: '/clients?kind=operator', status: 200 }),
    'clients.read': async () => ({ method: 'GET', path: `/clients/${(await throwawayClient()).clientId}`, status: 200 }),
    'clients.create': async () => ({ method: 'POST', path: '/clients', body: { name: unique('created'), grant_types: ['client_credentials'] }, status: 201 }),
    'clients.update': async () => ({ method: 'PATCH', path: `/clients/${(await throwawayClient()).clientId}`, body: { name: unique('renamed') }, status: 200 }),
    'clients.delete': async () => ({ method: 'DELETE', path: `/clients/${(await throwawayClient()).clientId}`, status: 204 }),
    'clients.rotate-secret': async () => ({ method: 'POST', path: `/clients/${(await throwawayClient()).clientId}/secret`, body: { grace_seconds: 60 }, status: 200 }),
    'resource-servers.list': async () => ({ method: 'GET', path: '/resource-servers', status: 200 }),
    'resource-servers.read': async () => ({ method: 'GET', path: `/resource-servers/${encoded(await throwawayServer())}`, status: 200 }),
    'resource-servers.create': async () => ({
      method: 'POST',
      path: '/resource-servers',
      body: { identifier: `https://${unique('new')}.example.test/`, name: 'Invoices', scopes: ['invoices:read'] },
      status: 201,
    }),
    'resource-servers.update': async () => ({ method: 'PATCH', path: `/resource-servers/${encoded(await throwawayServer())}`, body: { name: 'Renamed' }, status: 200 }),
    'resource-servers.delete': async () => ({ method: 'DELETE', path: `/resource-servers/${encoded(await throwawayServer())}`, status: 204 }),
    'resource-servers.allow': async () => ({
      method: 'POST',
      path: `/resource-servers/${encoded(await throwawayServer())}/clients`,
      body: { client_ids: [(await throwawayClient()).clientId] },
      status: 200,
    }),
    'resource-servers.disallow': async () => {
      const client = await throwawayClient();
      return { method: 'DELETE', path: `/resource-servers/${encoded(await throwawayServer([client.clientId]))}/clients/${client.clientId}`, status: 200 };
    },
    'profiles.search': async () => ({ method: 'GET', path: `/profiles?q=${encodeURIComponent(admin.email)}`, status: 200 }),
    'profiles.read': async () => ({ method: 'GET', path: `/profiles/${admin.profile.id}`, status: 200 }),
    'profiles.block': async () => ({ method: 'POST', path: `/profiles/${(await createPerson(netid.context)).profile.id}/block`, status: 200 }),
    'profiles.unblock': async () => ({ method: 'POST', path: `/profiles/${(await createPerson(netid.context)).profile.id}/unblock`, status: 200 }),
    'audit.list': async () => ({ method: 'GET', path: '/audit-events?limit=5', status: 200 }),
    'keys.list': async () => ({ method: 'GET', path: '/keys', status: 200 }),
    'keys.add-next': async () => ({ method: 'POST', path: '/keys/next', status: 201 }),
    'keys.promote': async () => ({ method: 'POST', path: '/keys/promotion', status: 200 }),
    'keys.retire': async () => ({ method: 'POST', path: '/keys/retirement', status: 200 }),
  };

  test('every operator route of the permissions table is served, and checked below', () => {
    expect(Object.keys(operatorCalls).sort()).toEqual(OPERATOR_ROUTES);
    const served = new Set(API_ROUTES.map((route) => route.id));
    expect(OPERATOR_ROUTES.filter((id) => !served.has(id as never))).toEqual([]);
  });

  test.each(OPERATOR_ROUTES)('%s: refused without a token, and to every token that is not an operator service client with the operator scope', async (id) => {
    const request = await operatorCalls[id]!();
    const keysBefore = await netid.context.services.keys.list();
    const recorded = await auditCount();

    const none = await call(undefined, request);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    expect(none.body.type).toBe(problemType('unauthorized'));
    for (const token of [tokens.account, tokens.admin, tokens.withoutOperatorScope]) {
      const refused = await call(token, request);
      expect(refused).toMatchObject({ status: 403, body: { type: problemType('insufficient-scope'), status: 403 } });
    }
    // A person signed in through an operator's own app, even one who asked for the scope, is no operator's service.
    const person = await call(tokens.personAtOperatorClient, request);
    expect(person).toMatchObject({ status: 403, body: { type: problemType('forbidden') } });

    expect(await auditCount()).toBe(recorded);
    expect(await netid.context.services.keys.list()).toEqual(keysBefore);
  });

  test.each(OPERATOR_ROUTES.filter((id) => !ROTATION_STEPS.includes(id)))("%s: allowed with an operator's token", async (id) => {
    const request = await operatorCalls[id]!();
    const answer = await call(tokens.operator, request);
    expect(answer.status).toBe(request.status);
  });

  describe('clients', () => {
    test('registered, read, listed by kind, changed and deleted; the secret is shown once', async () => {
      const created = await asOperator('POST', '/clients', {
        name: 'Reports',
        grant_types: ['client_credentials'],
        operator: true,
        backchannel_logout_uri: 'https://reports.example.test/logout',
      });
      expect(created).toMatchObject({
        status: 201,
        body: { client: { kind: 'operator', client_name: 'Reports', grant_types: ['client_credentials'], account_id: null }, client_secret: expect.any(String) },
      });
      const id = created.body.client.client_id as string;
      const read = await asOperator('GET', `/clients/${id}`);
      expect(read.body).toEqual(created.body.client);
      expect(JSON.stringify(read.body)).not.toContain(created.body.client_secret);
      // The secret works: it gets a token to the API as an operator.
      await expect(clientApiToken(netid, { clientId: id, clientSecret: created.body.client_secret }, 'operator')).resolves.toEqual(expect.any(String));

      const operators = await asOperator('GET', '/clients?kind=operator&limit=100');
      expect(operators.body.items.map((item: { client_id: string }) => item.client_id)).toEqual(expect.arrayContaining([id, operator.clientId]));
      expect(new Set(operators.body.items.map((item: { kind: string }) => item.kind))).toEqual(new Set(['operator']));
      const accounts = await asOperator('GET', '/clients?kind=account&limit=100');
      expect(accounts.body.items.map((item: { client_id: string }) => item.client_id)).toContain(account.clientId);
      expect(accounts.body.items.map((item: { client_id: string }) => item.client_id)).not.toContain(id);
      const firstParty = await asOperator('GET', '/clients?kind=first_party&limit=100');
      expect(firstParty.body.items.map((item: { client_id: string }) => item.client_id)).toContain(NETWORK_CLIENT_ID);

      // A change keeps what it does not name: still an operator's service, with its secret.
      const changed = await asOperator('PATCH', `/clients/${id}`, { name: 'Monthly reports', backchannel_logout_uri: null });
      expect(changed).toMatchObject({ status: 200, body: { client_id: id, client_name: 'Monthly reports', kind: 'operator', backchannel_logout_uri: null } });
      await expect(clientApiToken(netid, { clientId: id, clientSecret: created.body.client_secret }, 'operator')).resolves.toEqual(expect.any(String));
      const demoted = await asOperator('PATCH', `/clients/${id}`, { operator: false, first_party: true });
      expect(demoted.body).toMatchObject({ kind: 'first_party', client_name: 'Monthly reports' });
      // No longer an operator's service: what it asks for now comes without the operator scope.
      const narrowed = await clientApiToken(netid, { clientId: id, clientSecret: created.body.client_secret }, 'operator');
      expect((await call(narrowed, { method: 'GET', path: '/keys' })).body.type).toBe(problemType('insufficient-scope'));

      expect((await asOperator('DELETE', `/clients/${id}`)).status).toBe(204);
      expect((await asOperator('GET', `/clients/${id}`)).status).toBe(404);
      expect((await asOperator('DELETE', `/clients/${id}`)).status).toBe(404);
      expect(await oauthError(clientApiToken(netid, { clientId: id, clientSecret: created.body.client_secret }, 'account:admin'))).toBe('invalid_client');
    });

    test('a deleted client loses the grants and tokens it held', async () => {
      const introspector = await throwawayClient({ firstParty: true });
      const introspect = async (token: string) => {
        const config = await discoverAsClient(netid.issuer, introspector.clientId, introspector.clientSecret);
        return oidc.tokenIntrospection(config, token);
      };
      const created = await asOperator('POST', '/clients', { name: 'Short-lived', grant_types: ['client_credentials'] });
      const id = created.body.client.client_id as string;
      const config = await discoverAsClient(netid.issuer, id, created.body.client_secret);
      const { access_token } = await oidc.clientCredentialsGrant(config, {});
      expect(await introspect(access_token)).toMatchObject({ active: true, client_id: id });

      expect((await asOperator('DELETE', `/clients/${id}`)).status).toBe(204);
      expect(await introspect(access_token)).toEqual({ active: false });
    });

    test("an account's client and NetID's own are refused with the rule's problem, and stay as they were", async () => {
      const before = await netid.context.queries.clients.find(account.clientId);
      const patched = await asOperator('PATCH', `/clients/${account.clientId}`, { name: 'Taken over' });
      expect(patched).toMatchObject({ status: 409, body: { type: problemType('client-belongs-to-account') } });
      expect((await asOperator('DELETE', `/clients/${account.clientId}`)).body.type).toBe(problemType('client-belongs-to-account'));
      expect(await netid.context.queries.clients.find(account.clientId)).toEqual(before);

      const network = await asOperator('DELETE', `/clients/${NETWORK_CLIENT_ID}`);
      expect(network).toMatchObject({ status: 409, body: { type: problemType('client-built-in') } });
      expect((await asOperator('PATCH', `/clients/${NETWORK_CLIENT_ID}`, { name: 'Mine now' })).body.type).toBe(problemType('client-built-in'));
      expect((await asOperator('GET', `/clients/${NETWORK_CLIENT_ID}`)).body).toMatchObject({ client_name: 'Bitrix24 Network', kind: 'first_party' });
    });

    test('a rotated secret: both work during the grace, only the new one after it', async () => {
      const created = await asOperator('POST', '/clients', { name: 'Rotating', grant_types: ['client_credentials'] });
      const id = created.body.client.client_id as string;
      const oldSecret = created.body.client_secret as string;
      const token = (secret: string) => discoverAsClient(netid.issuer, id, secret).then((config) => oidc.clientCredentialsGrant(config, {}));
      await expect(token(oldSecret)).resolves.toHaveProperty('access_token');

      const rotated = await asOperator('POST', `/clients/${id}/secret`, { grace_seconds: 2 });
      expect(rotated).toMatchObject({ status: 200, body: { client_id: id, client_secret: expect.any(String), previous_secret_expires_at: expect.any(String) } });
      const newSecret = rotated.body.client_secret as string;
      expect(newSecret).not.toBe(oldSecret);
      const graceEnds = Date.parse(rotated.body.previous_secret_expires_at);
      expect(graceEnds - Date.now()).toBeGreaterThan(1000);
      expect(graceEnds - Date.now()).toBeLessThanOrEqual(2000);

      await expect(token(oldSecret)).resolves.toHaveProperty('access_token');
      await expect(token(newSecret)).resolves.toHaveProperty('access_token');
      expect(Date.now()).toBeLessThan(graceEnds);

      await sleep(graceEnds - Date.now() + 200);
      expect(await oauthError(token(oldSecret))).toBe('invalid_client');
      await expect(token(newSecret)).resolves.toHaveProperty('access_token');

      // Without a grace the old secret stops at once.
      const again = await asOperator('POST', `/clients/${id}/secret`, { grace_seconds: 0 });
      expect(again.body.previous_secret_expires_at).toBeNull();
      expect(await oauthError(token(newSecret))).toBe('invalid_client');
      await expect(token(again.body.client_secret)).resolves.toHaveProperty('access_token');
      // Left out, the grace is a day.
      const byDefault = await asOperator('POST', `/clients/${id}/secret`, {});
      expect(Date.parse(byDefault.body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(24 * 3600 * 1000 - 60_000);
    });

    test('a registration retried with its Idempotency-Key registers one client and shows the same secret again', async () => {
      const name = unique('retried');
      const headers = { 'Idempotency-Key': `register-${name}` };
      const first = await call(tokens.operator, { method: 'POST', path: '/clients', body: { name, grant_types: ['client_credentials'] }, headers });
      const second = await call(tokens.operator, { method: 'POST', path: '/clients', body: { name, grant_types: ['client_credentials'] }, headers });
      expect(first.status).toBe(201);
      expect(second).toMatchObject({ status: 201, body: first.body });
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(await netid.context.db('clients').whereRaw("metadata->>'client_name' = ?", [name])).toHaveLength(1);
    });
  });

  describe('resource servers', () => {
    test('registered, read by its encoded identifier, changed, opened to a client and closed again, and removed', async () => {
      const client = await throwawayClient();
      const identifier = `https://${unique('orders')}.example.test/v1`;
      const path = `/resource-servers/${encoded(identifier)}`;
      const tokenFor = async () => {
        const config = await discoverAsClient(netid.issuer, client.clientId, client.clientSecret);
        return oidc.clientCredentialsGrant(config, { resource: identifier, scope: 'orders:read' });
      };

      const created = await asOperator('POST', '/resource-servers', { identifier, name: 'Orders', scopes: ['orders:read', 'orders:write'] });
      expect(created).toMatchObject({
        status: 201,
        body: { identifier, name: 'Orders', scopes: ['orders:read', 'orders:write'], access_token_format: 'jwt', signing_alg: 'RS256', access_token_ttl: 300, client_ids: [] },
      });
      expect((await asOperator('GET', path)).body).toEqual(created.body);
      const listed = await asOperator('GET', '/resource-servers');
      expect(listed.body.items.map((item: { identifier: string }) => item.identifier)).toEqual(expect.arrayContaining([identifier, apiResource(netid)]));
      expect(await oauthError(tokenFor())).toBe('invalid_target');

      const opened = await asOperator('POST', `${path}/clients`, { client_ids: [client.clientId] });
      expect(opened.body.client_ids).toEqual([client.clientId]);
      const granted = await tokenFor();
      const { payload } = await jwtVerify(granted.access_token, createRemoteJWKSet(new URL(`${netid.issuer}/jwks`)), { issuer: netid.issuer, audience: identifier });
      expect(payload).toMatchObject({ client_id: client.clientId, scope: 'orders:read' });

      const changed = await asOperator('PATCH', path, { name: 'Orders v1', access_token_format: 'opaque' });
      expect(changed.body).toMatchObject({ name: 'Orders v1', access_token_format: 'opaque', access_token_ttl: 3600, client_ids: [client.clientId] });
      // An opaque token is a reference to look up, not a JWT.
      expect((await tokenFor()).access_token.split('.')).toHaveLength(1);

      const closed = await asOperator('DELETE', `${path}/clients/${client.clientId}`);
      expect(closed).toMatchObject({ status: 200, body: { client_ids: [] } });
      expect(await oauthError(tokenFor())).toBe('invalid_target');

      expect((await asOperator('DELETE', path)).status).toBe(204);
      expect((await asOperator('GET', path)).status).toBe(404);
    });

    test("NetID's own management API is listed and read, and never changed or removed", async () => {
      const path = `/resource-servers/${encoded(apiResource(netid))}`;
      const before = await asOperator('GET', path);
      expect(before).toMatchObject({ status: 200, body: { identifier: apiResource(netid), scopes: ['account:admin', 'operator'] } });
      const client = await throwawayClient();
      for (const [method, suffix, body] of [
        ['PATCH', '', { name: 'Mine' }],
        ['DELETE', '', undefined],
        ['POST', '/clients', { client_ids: [client.clientId] }],
        ['DELETE', `/clients/${client.clientId}`, undefined],
      ] as const) {
        const refused = await asOperator(method, `${path}${suffix}`, body);
        expect(refused).toMatchObject({ status: 409, body: { type: problemType('resource-server-built-in'), detail: expect.stringContaining(apiResource(netid)) } });
      }
      const registered = await asOperator('POST', '/resource-servers', { identifier: apiResource(netid), name: 'Mine', scopes: ['mine'] });
      expect(registered.body.type).toBe(problemType('resource-server-built-in'));
      expect((await asOperator('GET', path)).body).toEqual(before.body);
      // Still the API: the operator's token keeps working.
      expect((await asOperator('GET', '/keys')).status).toBe(200);
    });
  });

  describe('profiles', () => {
    test('found by email, phone or name, a page at a time', async () => {
      const family = unique('Familyname');
      const people = [];
      for (let i = 0; i < 3; i++) people.push(await createPerson(netid.context, { firstName: `Kin${i}`, lastName: family }));
      const phone = `+7916${String(Date.now()).slice(-7)}`;
      const withPhone = await netid.context.services.profiles.create({ email: `${unique('phoned')}@example.test`, phone, firstName: 'Pho', lastName: 'Ne' }, OPERATOR);
      if (!withPhone.ok) throw new Error(withPhone.problem);

      const byEmail = await asOperator('GET', `/profiles?q=${encodeURIComponent(people[1]!.email.toUpperCase())}`);
      expect(byEmail.body.items.map((item: { id: string }) => item.id)).toEqual([people[1]!.profile.id]);
      expect(byEmail.body.items[0]).toMatchObject({ email: people[1]!.email, email_verified: true, has_password: true, blocked: false, blocked_at: null });
      const byPhone = await asOperator('GET', `/profiles?q=${encodeURIComponent(phone)}`);
      expect(byPhone.body.items).toEqual([expect.objectContaining({ id: withPhone.profile.id, phone, phone_verified: true })]);
      // As an operator types it from a form: brackets, spaces and dashes; or only the last digits with a dash.
      const typed = `${phone.slice(0, 2)} (${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8, 10)}-${phone.slice(10)}`;
      expect((await asOperator('GET', `/profiles?q=${encodeURIComponent(typed)}`)).body.items).toEqual([expect.objectContaining({ id: withPhone.profile.id })]);
      const tail = `${phone.slice(5, 8)}-${phone.slice(8)}`;
      expect((await asOperator('GET', `/profiles?q=${encodeURIComponent(tail)}`)).body.items).toEqual([expect.objectContaining({ id: withPhone.profile.id })]);

      const seen: string[] = [];
      let path = `/profiles?q=${family.toLowerCase()}&limit=2`;
      for (let pages = 0; pages < 3; pages++) {
        const page = await asOperator('GET', path);
        seen.push(...page.body.items.map((item: { id: string }) => item.id));
        if (!page.body.next) break;
        expect(page.body.items).toHaveLength(2);
        const link = /^<([^>]+)>; rel="next"$/.exec(page.headers.get('link') ?? '')![1]!;
        path = link.slice(`${netid.issuer}/api/v1`.length);
      }
      expect(seen.sort()).toEqual(people.map((person) => person.profile.id).sort());
      expect((await asOperator('GET', `/profiles/${people[0]!.profile.id}`)).body).toMatchObject({ id: people[0]!.profile.id, first_name: 'Kin0', last_name: family });
    });

    test("blocking ends the person's sessions and tokens, tells the account, and stops sign-in until unblocked", async () => {
      const person = await createPerson(netid.context);
      const listening = await createTestAccount(netid.context, await createPerson(netid.context));
      await addTestMember(netid.context, listening.account.id, person.profile.id);
      const receiver = await startBackchannelReceiver();
      receivers.push(receiver);
      const stored = (await netid.context.queries.clients.findByAccount(listening.account.id))!;
      await netid.context.queries.clients.updateMetadata(stored.client_id, { ...stored.metadata, backchannel_logout_uri: receiver.url });
      const config = await discoverAsClient(netid.issuer, listening.clientId, listening.clientSecret);
      const redirectUri = redirectOf(listening);

      // The person signs in to the account and it keeps a refresh token.
      const pending = await startAuthorization(config, redirectUri, { scope: 'openid email offline_access', prompt: 'consent' });
      const signedIn = await exchangeCode(config, await signInThroughForms(new UserAgent(netid.issuer), pending.url, person.email, person.password), pending);
      const sid = signedIn.claims()!.sid;
      expect(signedIn.refresh_token).toEqual(expect.any(String));
      const refreshed = await oidc.refreshTokenGrant(config, signedIn.refresh_token!);

      const blocked = await asOperator('POST', `/profiles/${person.profile.id}/block`);
      expect(blocked).toMatchObject({ status: 200, body: { id: person.profile.id, blocked: true, blocked_at: expect.any(String) } });

      expect(await oauthError(oidc.refreshTokenGrant(config, refreshed.refresh_token!))).toBe('invalid_grant');
      const delivery = await receiver.next();
      const { payload } = await jwtVerify(delivery.form.get('logout_token')!, createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!)), {
        issuer: netid.issuer,
        audience: listening.clientId,
        typ: 'logout+jwt',
      });
      expect(payload).toMatchObject({ sub: person.profile.id, sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });

      // The right password is refused with the blocked message.
      const agent = new UserAgent(netid.issuer);
      const again = await startAuthorization(config, redirectUri);
      const refused = await agent.submit(await agent.page(again.url.toString()), 'form[action$="/login"]', { identifier: person.email, password: person.password });
      expect(isPage(refused) && refused.status).toBe(403);
      expect(isPage(refused) && alertText(refused)).toContain(en['login.blocked']);
      // Blocking twice changes nothing.
      expect((await asOperator('POST', `/profiles/${person.profile.id}/block`)).body.blocked_at).toBe(blocked.body.blocked_at);

      const unblocked = await asOperator('POST', `/profiles/${person.profile.id}/unblock`);
      expect(unblocked).toMatchObject({ status: 200, body: { blocked: false, blocked_at: null } });
      const afterwards = await startAuthorization(config, redirectUri);
      const callback = await signInThroughForms(new UserAgent(netid.issuer), afterwards.url, person.email, person.password);
      expect((await exchangeCode(config, callback, afterwards)).claims()!.sub).toBe(person.profile.id);

      const trail = await asOperator('GET', `/audit-events?profile=${person.profile.id}&kind=profile.blocked`);
      expect(trail.body.items).toEqual([
        expect.objectContaining({ kind: 'profile.blocked', profile_id: person.profile.id, actor: { kind: 'client', client_id: operator.clientId, profile_id: null } }),
      ]);
    });
  });

  describe('audit trail', () => {
    test('newest first, filtered by profile, account, kind and time, a page at a time', async () => {
      const person = await createPerson(netid.context);
      const started = new Date(Date.now() - 1000).toISOString();
      const created = await asOperator('POST', '/accounts', { admin_profile_id: person.profile.id });
      await asOperator('POST', `/profiles/${person.profile.id}/block`);
      await asOperator('POST', `/profiles/${person.profile.id}/unblock`);

      const about = await asOperator('GET', `/audit-events?profile=${person.profile.id}&since=${encodeURIComponent(started)}`);
      const kinds = about.body.items.map((item: { kind: string }) => item.kind);
      expect(kinds.slice(0, 2)).toEqual(['profile.unblocked', 'profile.blocked']);
      const ids = about.body.items.map((item: { id: string }) => Number(item.id));
      expect(ids).toEqual([...ids].sort((a, b) => b - a));

      const ofAccount = await asOperator('GET', `/audit-events?account=${created.body.account.id}`);
      expect(ofAccount.body.items.length).toBeGreaterThan(0);
      for (const item of ofAccount.body.items) expect(item.account_id).toBe(created.body.account.id);

      const firstPage = await asOperator('GET', `/audit-events?profile=${person.profile.id}&limit=1`);
      expect(firstPage.body.items).toHaveLength(1);
      expect(firstPage.body.items[0].kind).toBe('profile.unblocked');
      const secondPage = await asOperator('GET', `/audit-events?profile=${person.profile.id}&limit=1&cursor=${firstPage.body.next}`);
      expect(secondPage.body.items[0].kind).toBe('profile.blocked');

      const later = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
      expect((await asOperator('GET', `/audit-events?profile=${person.profile.id}&since=${later}`)).body).toEqual({ items: [], next: null });
      expect((await asOperator('GET', `/audit-events?profile=${person.profile.id}&until=${encodeURIComponent(started)}`)).body.items).toEqual([]);
      const blockedOnly = await asOperator('GET', `/audit-events?kind=profile.blocked&profile=${person.profile.id}`);
      expect(blockedOnly.body.items.map((item: { kind: string }) => item.kind)).toEqual(['profile.blocked']);
    });
  });

  /** Malformed requests, each answered by a problem document; `pointer` is where its `errors` point, when it names the input. */
  const malformed: Array<{ id: string; case: string; status: number; request: (f: { accountClientId: string; server: string; api: string }) => Request; pointer?: string }> = [
    { id: 'accounts.list', case: 'a cursor NetID did not make', status: 400, request: () => ({ method: 'GET', path: `/accounts?cursor=${madeUpCursor('not-an-id')}` }), pointer: 'cursor' },
    { id: 'accounts.create', case: 'an admin that is not a profile id', status: 400, request: () => ({ method: 'POST', path: '/accounts', body: { admin_profile_id: 'me' } }), pointer: '/admin_profile_id' },
    { id: 'clients.create', case: 'malformed JSON', status: 400, request: () => ({ method: 'POST', path: '/clients', rawBody: '{"name": ' }) },
    { id: 'clients.create', case: 'a body that is not JSON', status: 415, request: () => ({ method: 'POST', path: '/clients', rawBody: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }) },
    { id: 'clients.create', case: 'a body too large', status: 413, request: () => ({ method: 'POST', path: '/clients', rawBody: JSON.stringify({ name: 'x'.repeat(70_000) }) }) },
    { id: 'clients.create', case: 'a name of the wrong type', status: 400, request: () => ({ method: 'POST', path: '/clients', body: { name: 42 } }), pointer: '/name' },
    { id: 'clients.create', case: 'an unknown field', status: 400, request: () => ({ method: 'POST', path: '/clients', body: { name: 'x', client_secret: 'mine' } }), pointer: '/client_secret' },
    { id: 'clients.create', case: 'a grant type NetID does not offer', status: 400, request: () => ({ method: 'POST', path: '/clients', body: { name: 'x', grant_types: ['implicit'] } }), pointer: '/grant_types/0' },
    { id: 'clients.create', case: 'a redirect URI oidc-provider refuses', status: 400, request: () => ({ method: 'POST', path: '/clients', body: { name: 'x', redirect_uris: ['not a url'] } }) },
    { id: 'clients.list', case: 'a kind that does not exist', status: 400, request: () => ({ method: 'GET', path: '/clients?kind=robot' }), pointer: 'kind' },
    { id: 'clients.list', case: 'an unknown query parameter', status: 400, request: () => ({ method: 'GET', path: '/clients?sort=name' }), pointer: 'sort' },
    { id: 'clients.read', case: 'a client id with a space', status: 400, request: () => ({ method: 'GET', path: '/clients/a%20b' }), pointer: 'client' },
    { id: 'clients.read', case: 'a client nobody registered', status: 404, request: () => ({ method: 'GET', path: '/clients/no-such-client' }) },
    { id: 'clients.update', case: 'a client nobody registered', status: 404, request: () => ({ method: 'PATCH', path: '/clients/no-such-client', body: { name: 'x' } }) },
    { id: 'clients.update', case: "an account's client", status: 409, request: (f) => ({ method: 'PATCH', path: `/clients/${f.accountClientId}`, body: { name: 'x' } }) },
    { id: 'clients.update', case: 'a field that cannot change', status: 400, request: (f) => ({ method: 'PATCH', path: `/clients/${f.accountClientId}`, body: { public: true } }), pointer: '/public' },
    { id: 'clients.delete', case: "an account's client", status: 409, request: (f) => ({ method: 'DELETE', path: `/clients/${f.accountClientId}` }) },
    { id: 'clients.delete', case: 'a client nobody registered', status: 404, request: () => ({ method: 'DELETE', path: '/clients/no-such-client' }) },
    { id: 'clients.rotate-secret', case: 'a grace that is a string', status: 400, request: (f) => ({ method: 'POST', path: `/clients/${f.accountClientId}/secret`, body: { grace_seconds: '60' } }), pointer: '/grace_seconds' },
    { id: 'clients.rotate-secret', case: 'a grace over 30 days', status: 400, request: (f) => ({ method: 'POST', path: `/clients/${f.accountClientId}/secret`, body: { grace_seconds: 2_592_001 } }), pointer: '/grace_seconds' },
    { id: 'clients.rotate-secret', case: 'a public client', status: 409, request: () => ({ method: 'POST', path: `/clients/${NETWORK_CLIENT_ID}/secret`, body: {} }) },
    { id: 'clients.rotate-secret', case: 'a client nobody registered', status: 404, request: () => ({ method: 'POST', path: '/clients/no-such-client/secret', body: {} }) },
    { id: 'resource-servers.create', case: 'an identifier that is not https', status: 400, request: () => ({ method: 'POST', path: '/resource-servers', body: { identifier: 'http://api.example.test/', name: 'x', scopes: ['a'] } }), pointer: '/identifier' },
    { id: 'resource-servers.create', case: 'an identifier with a fragment', status: 400, request: () => ({ method: 'POST', path: '/resource-servers', body: { identifier: 'https://api.example.test/#x', name: 'x', scopes: ['a'] } }), pointer: '/identifier' },
    { id: 'resource-servers.create', case: "a scope NetID answers itself", status: 400, request: () => ({ method: 'POST', path: '/resource-servers', body: { identifier: 'https://scoped.example.test/', name: 'x', scopes: ['openid'] } }), pointer: '/scopes' },
    { id: 'resource-servers.create', case: 'scopes as one string', status: 400, request: () => ({ method: 'POST', path: '/resource-servers', body: { identifier: 'https://scoped.example.test/', name: 'x', scopes: 'a b' } }), pointer: '/scopes' },
    { id: 'resource-servers.create', case: 'a lifetime under a minute', status: 400, request: () => ({ method: 'POST', path: '/resource-servers', body: { identifier: 'https://ttl.example.test/', name: 'x', scopes: ['a'], access_token_ttl: 5 } }), pointer: '/access_token_ttl' },
    { id: 'resource-servers.create', case: 'a format that does not exist', status: 400, request: () => ({ method: 'POST', path: '/resource-servers', body: { identifier: 'https://f.example.test/', name: 'x', scopes: ['a'], access_token_format: 'paseto' } }), pointer: '/access_token_format' },
    { id: 'resource-servers.create', case: 'a client nobody registered', status: 400, request: () => ({ method: 'POST', path: '/resource-servers', body: { identifier: 'https://c.example.test/', name: 'x', scopes: ['a'], client_ids: ['no-such-client'] } }), pointer: '/client_ids' },
    { id: 'resource-servers.create', case: 'one registered already', status: 409, request: (f) => ({ method: 'POST', path: '/resource-servers', body: { identifier: f.server, name: 'x', scopes: ['a'] } }), pointer: '/identifier' },
    { id: 'resource-servers.read', case: 'an identifier nobody registered', status: 404, request: () => ({ method: 'GET', path: `/resource-servers/${encodeURIComponent('https://nobody.example.test/')}` }) },
    { id: 'resource-servers.update', case: 'an identifier nobody registered', status: 404, request: () => ({ method: 'PATCH', path: `/resource-servers/${encodeURIComponent('https://nobody.example.test/')}`, body: { name: 'x' } }) },
    { id: 'resource-servers.update', case: 'the identifier, which cannot change', status: 400, request: (f) => ({ method: 'PATCH', path: `/resource-servers/${encodeURIComponent(f.server)}`, body: { identifier: 'https://other.example.test/' } }), pointer: '/identifier' },
    { id: 'resource-servers.update', case: "NetID's own API", status: 409, request: (f) => ({ method: 'PATCH', path: `/resource-servers/${encodeURIComponent(f.api)}`, body: { name: 'x' } }) },
    { id: 'resource-servers.delete', case: 'an identifier nobody registered', status: 404, request: () => ({ method: 'DELETE', path: `/resource-servers/${encodeURIComponent('https://nobody.example.test/')}` }) },
    { id: 'resource-servers.delete', case: "NetID's own API", status: 409, request: (f) => ({ method: 'DELETE', path: `/resource-servers/${encodeURIComponent(f.api)}` }) },
    { id: 'resource-servers.allow', case: 'no clients', status: 400, request: (f) => ({ method: 'POST', path: `/resource-servers/${encodeURIComponent(f.server)}/clients`, body: { client_ids: [] } }), pointer: '/client_ids' },
    { id: 'resource-servers.allow', case: 'a client nobody registered', status: 400, request: (f) => ({ method: 'POST', path: `/resource-servers/${encodeURIComponent(f.server)}/clients`, body: { client_ids: ['no-such-client'] } }), pointer: '/client_ids' },
    { id: 'resource-servers.allow', case: 'client ids of the wrong type', status: 400, request: (f) => ({ method: 'POST', path: `/resource-servers/${encodeURIComponent(f.server)}/clients`, body: { client_ids: 'x' } }), pointer: '/client_ids' },
    { id: 'resource-servers.allow', case: 'an identifier nobody registered', status: 404, request: (f) => ({ method: 'POST', path: `/resource-servers/${encodeURIComponent('https://nobody.example.test/')}/clients`, body: { client_ids: [f.accountClientId] } }) },
    { id: 'resource-servers.disallow', case: 'an identifier nobody registered', status: 404, request: (f) => ({ method: 'DELETE', path: `/resource-servers/${encodeURIComponent('https://nobody.example.test/')}/clients/${f.accountClientId}` }) },
    { id: 'resource-servers.disallow', case: "NetID's own API", status: 409, request: (f) => ({ method: 'DELETE', path: `/resource-servers/${encodeURIComponent(f.api)}/clients/${f.accountClientId}` }) },
    { id: 'resource-servers.list', case: 'an unknown query parameter', status: 400, request: () => ({ method: 'GET', path: '/resource-servers?format=jwt' }), pointer: 'format' },
    { id: 'profiles.search', case: 'an empty search', status: 400, request: () => ({ method: 'GET', path: '/profiles?q=' }), pointer: 'q' },
    { id: 'profiles.search', case: 'a cursor NetID did not make', status: 400, request: () => ({ method: 'GET', path: `/profiles?cursor=${madeUpCursor('not-an-id')}` }), pointer: 'cursor' },
    { id: 'profiles.read', case: 'a profile id that is not one', status: 400, request: () => ({ method: 'GET', path: '/profiles/not-a-uuid' }), pointer: 'profile' },
    { id: 'profiles.read', case: 'a profile nobody has', status: 404, request: () => ({ method: 'GET', path: '/profiles/7d1e1c52-8a0e-4f7e-9a4c-0b8c2a7d3f10' }) },
    { id: 'profiles.block', case: 'a profile nobody has', status: 404, request: () => ({ method: 'POST', path: '/profiles/7d1e1c52-8a0e-4f7e-9a4c-0b8c2a7d3f10/block' }) },
    { id: 'profiles.unblock', case: 'a profile id that is not one', status: 400, request: () => ({ method: 'POST', path: '/profiles/42/unblock' }), pointer: 'profile' },
    { id: 'audit.list', case: 'a since that is no date-time', status: 400, request: () => ({ method: 'GET', path: '/audit-events?since=yesterday' }), pointer: 'since' },
    { id: 'audit.list', case: 'a date-time without its offset', status: 400, request: () => ({ method: 'GET', path: '/audit-events?until=2026-01-31T12:00:00' }), pointer: 'until' },
    { id: 'audit.list', case: 'a profile that is not an id', status: 400, request: () => ({ method: 'GET', path: '/audit-events?profile=42' }), pointer: 'profile' },
    { id: 'audit.list', case: 'a limit over 100', status: 400, request: () => ({ method: 'GET', path: '/audit-events?limit=101' }), pointer: 'limit' },
    { id: 'audit.list', case: 'a cursor NetID did not make', status: 400, request: () => ({ method: 'GET', path: `/audit-events?cursor=${madeUpCursor('1 or 1=1')}` }), pointer: 'cursor' },
    { id: 'keys.list', case: 'an unknown query parameter', status: 400, request: () => ({ method: 'GET', path: '/keys?state=current' }), pointer: 'state' },
    { id: 'keys.add-next', case: 'malformed JSON', status: 400, request: () => ({ method: 'POST', path: '/keys/next', rawBody: '{' }) },
  ];

  test.each(malformed)('$id, $case: a problem document with status $status', async ({ status, request, pointer }) => {
    const fixtures = { accountClientId: account.clientId, server: await throwawayServer(), api: apiResource(netid) };
    const answer = await call(tokens.operator, request(fixtures));
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ type: expect.stringContaining('/api/v1/problems#'), title: expect.any(String), status });
    if (pointer) expect(answer.body.errors.map((error: { pointer: string }) => error.pointer)).toContain(pointer);
  });

  test('the rotation steps, in order and out of it, on a NetID of their own', async () => {
    // Rotation changes what every token of a NetID is signed with: this one serves this test alone.
    const own = await createTestDatabase(backend);
    let rotating = await startNetid(own.db);
    try {
      const service = await createTestClient(rotating.context, { name: 'Operations', grantTypes: ['client_credentials'], operator: true });
      const credentials = { clientId: service.clientId, clientSecret: service.clientSecret! };
      const ownChecker = await openApiChecker(rotating);
      const rotate = async (token: string, method: string, path: string, headers?: Record<string, string>) => {
        const answer = await callApi(rotating, token, method, path, { headers });
        ownChecker.expectConformant(method, path, answer);
        return answer;
      };
      const count = (items: Array<{ state: string }>, state: string) => items.filter((key) => key.state === state).length;
      const es256 = (items: Array<{ state: string; alg: string; kid: string }>, state: string) => items.find((key) => key.alg === 'ES256' && key.state === state)!.kid;

      let token = await clientApiToken(rotating, credentials, 'operator');
      const first = await rotate(token, 'GET', '/keys');
      expect(first.status).toBe(200);
      expect(count(first.body.items, 'current')).toBe(3);
      const k1 = es256(first.body.items, 'current');
      // The API's own tokens are ES256, signed by the current key.
      expect(decodeProtectedHeader(token).kid).toBe(k1);

      const early = await rotate(token, 'POST', '/keys/promotion');
      expect(early).toMatchObject({ status: 409, body: { type: `${rotating.issuer}/api/v1/problems#no-next-key` } });

      // Step 1, retried with its Idempotency-Key: one set of next keys.
      const headers = { 'Idempotency-Key': 'rotation-step-1' };
      const added = await rotate(token, 'POST', '/keys/next', headers);
      expect(added).toMatchObject({ status: 201, body: { next_step: expect.stringContaining('POST /api/v1/keys/promotion') } });
      expect(added.body.added.map((key: { alg: string }) => key.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
      const replayed = await rotate(token, 'POST', '/keys/next', headers);
      expect(replayed).toMatchObject({ status: 201, body: added.body });
      const twice = await rotate(token, 'POST', '/keys/next');
      expect(twice).toMatchObject({ status: 409, body: { type: `${rotating.issuer}/api/v1/problems#next-key-exists` } });
      const afterAdd = (await rotate(token, 'GET', '/keys')).body.items;
      expect(count(afterAdd, 'next')).toBe(3);
      const k2 = es256(afterAdd, 'next');

      rotating = await restartNetid(rotating);
      const jwks = (await (await fetch(`${rotating.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> };
      expect(jwks.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([k1, k2]));

      // Step 2: the token signed before it still verifies, new ones are signed by the next key.
      const promoted = await rotate(token, 'POST', '/keys/promotion');
      expect(promoted).toMatchObject({ status: 200, body: { promoted: true, next_step: expect.stringContaining('POST /api/v1/keys/retirement') } });
      rotating = await restartNetid(rotating);
      const afterPromote = (await rotate(token, 'GET', '/keys')).body.items;
      expect(es256(afterPromote, 'current')).toBe(k2);
      expect(es256(afterPromote, 'previous')).toBe(k1);
      const newer = await clientApiToken(rotating, credentials, 'operator');
      expect(decodeProtectedHeader(newer).kid).toBe(k2);

      // Out of order: a previous key still published stops another promotion.
      expect((await rotate(newer, 'POST', '/keys/next')).status).toBe(201);
      const overPrevious = await rotate(newer, 'POST', '/keys/promotion');
      expect(overPrevious).toMatchObject({ status: 409, body: { type: `${rotating.issuer}/api/v1/problems#previous-key-exists` } });

      // Step 3: the previous key goes, and the tokens it signed with it.
      const retired = await rotate(newer, 'POST', '/keys/retirement');
      expect(retired).toMatchObject({ status: 200, body: { retired: 3, next_step: 'roll every instance' } });
      expect((await rotate(newer, 'POST', '/keys/retirement')).body.retired).toBe(0);
      rotating = await restartNetid(rotating);
      expect((await callApi(rotating, token, 'GET', '/keys')).status).toBe(401);
      token = newer;
      const afterRetire = (await rotate(token, 'GET', '/keys')).body.items;
      expect(afterRetire.find((key: { kid: string }) => key.kid === k1).state).toBe('retired');

      const trail = await rotate(token, 'GET', '/audit-events?limit=100');
      const steps = trail.body.items.filter((item: { kind: string }) => item.kind.startsWith('keys.'));
      expect(steps.map((item: { kind: string }) => item.kind)).toEqual(['keys.retired', 'keys.retired', 'keys.next_added', 'keys.promoted', 'keys.next_added']);
      for (const step of steps) expect(step.actor).toEqual({ kind: 'client', client_id: service.clientId, profile_id: null });
    } finally {
      await rotating.stop();
      await own.dispose();
    }
  });
});
