import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { addTestMember, createPerson, createTestAccount, createTestClient, type TestPerson } from '../support/fixtures.js';
import { apiResource, callApi, clientApiToken, openApiChecker, personApiToken, type ApiAnswer } from '../support/management-api.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient } from '../support/relying-party.js';

/** A call as the table below describes it, against the account it is about. */
interface Call {
  method: string;
  path: (account: string, member: string) => string;
  body?: unknown;
}

/**
 * The account admins' routes of the management API: who may call each one
 * (the account's back end, its active admins signed in, operators), who may
 * not (another account, a token without the scope, no token), and every
 * answer checked against the API's own OpenAPI document.
 */
describe.each(backends)('the management API for account admins (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let admin: TestPerson;
  let member: TestPerson;
  let account: CreatedAccount;
  let other: CreatedAccount;
  let operator: { clientId: string; clientSecret: string };
  let tokens: { account: string; other: string; noScope: string; operator: string; admin: string; plainMember: string };
  let checker: Awaited<ReturnType<typeof openApiChecker>>;

  const redirectOf = (created: CreatedAccount) => (accountClientUris(netid.context.config.accountUrlPattern, created.account.name).redirect_uris as string[])[0]!;

  async function call(token: string | undefined, method: string, path: string, options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}): Promise<ApiAnswer> {
    const answer = await callApi(netid, token, method, path, options);
    checker.expectConformant(method, path, answer);
    return answer;
  }

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    admin = await createPerson(netid.context, { firstName: 'Ada', lastName: 'Admin' });
    member = await createPerson(netid.context, { firstName: 'Max', lastName: 'Member' });
    account = await createTestAccount(netid.context, admin);
    await addTestMember(netid.context, account.account.id, member.profile.id);
    other = await createTestAccount(netid.context, await createPerson(netid.context));
    const registered = await createTestClient(netid.context, { name: 'Operations', grantTypes: ['client_credentials'], operator: true });
    operator = { clientId: registered.clientId, clientSecret: registered.clientSecret! };
    tokens = {
      account: await clientApiToken(netid, account, 'account:admin'),
      other: await clientApiToken(netid, other, 'account:admin'),
      noScope: (await oidc.clientCredentialsGrant(await discoverAsClient(netid.issuer, account.clientId, account.clientSecret), { resource: apiResource(netid) }))
        .access_token,
      operator: await clientApiToken(netid, operator, 'operator'),
      admin: await personApiToken(netid, { ...account, redirectUri: redirectOf(account) }, admin),
      plainMember: await personApiToken(netid, { ...account, redirectUri: redirectOf(account) }, member),
    };
    checker = await openApiChecker(netid);
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  const accountRoutes: Record<string, Call> = {
    'accounts.read': { method: 'GET', path: (a) => `/accounts/${a}` },
    'members.list': { method: 'GET', path: (a) => `/accounts/${a}/members` },
    'members.read': { method: 'GET', path: (a, m) => `/accounts/${a}/members/${m}` },
    'members.invite': { method: 'POST', path: (a) => `/accounts/${a}/invitations`, body: { address: 'nobody.yet@example.test', role: 'user' } },
    'members.change-role': { method: 'PATCH', path: (a, m) => `/accounts/${a}/members/${m}`, body: { role: 'user' } },
    'members.dismiss': { method: 'POST', path: (a, m) => `/accounts/${a}/members/${m}/dismissal` },
    'members.restore': { method: 'POST', path: (a, m) => `/accounts/${a}/members/${m}/restoration` },
    'accounts.rename': { method: 'PATCH', path: (a) => `/accounts/${a}`, body: { name: `renamed-${Date.now().toString(36)}` } },
  };

  test.each(Object.entries(accountRoutes))('%s: refused without a token, with another account\'s token, and without the scope', async (_id, route) => {
    const path = route.path(account.account.id, member.profile.id);
    const none = await call(undefined, route.method, path, { body: route.body });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    const otherAccount = await call(tokens.other, route.method, path, { body: route.body });
    expect(otherAccount.status).toBe(403);
    expect(otherAccount.body).toMatchObject({ type: `${netid.issuer}/api/v1/problems#forbidden`, status: 403 });
    const noScope = await call(tokens.noScope, route.method, path, { body: route.body });
    expect(noScope.status).toBe(403);
    expect(noScope.body.type).toBe(`${netid.issuer}/api/v1/problems#insufficient-scope`);
    const notAdmin = await call(tokens.plainMember, route.method, path, { body: route.body });
    expect(notAdmin.status).toBe(403);
    // Nothing changed: the member is still a plain active member, the account keeps its name.
    expect(await netid.context.queries.memberships.find(account.account.id, member.profile.id)).toMatchObject({ role: 'user', state: 'active' });
    expect((await netid.context.queries.accounts.findById(account.account.id))?.renamed_at).toBeNull();
  });

  test('every route is allowed to the account\'s own back end, in the order a life of a membership takes', async () => {
    const token = tokens.account;
    const a = account.account.id;
    const m = member.profile.id;
    const read = await call(token, 'GET', `/accounts/${a}`);
    expect(read).toMatchObject({ status: 200, body: { id: a, name: account.account.name, client_id: account.clientId, renamed_at: null } });
    // By name too.
    expect((await call(token, 'GET', `/accounts/${account.account.name}/members/${m}`)).body).toMatchObject({ profile_id: m, role: 'user', state: 'active', first_name: 'Max' });

    const listed = await call(token, 'GET', `/accounts/${a}/members?state=active`);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((item: { profile_id: string }) => item.profile_id).sort()).toEqual([admin.profile.id, m].sort());
    expect(listed.body.next).toBeNull();

    expect((await call(token, 'PATCH', `/accounts/${a}/members/${m}`, { body: { role: 'admin' } })).body).toMatchObject({ role: 'admin' });
    expect((await call(token, 'PATCH', `/accounts/${a}/members/${m}`, { body: { role: 'user' } })).body).toMatchObject({ role: 'user' });
    expect((await call(token, 'POST', `/accounts/${a}/members/${m}/dismissal`)).body).toMatchObject({ state: 'dismissed' });
    expect((await call(token, 'POST', `/accounts/${a}/members/${m}/dismissal`)).status).toBe(404);
    expect((await call(token, 'POST', `/accounts/${a}/members/${m}/restoration`)).body).toMatchObject({ state: 'active', role: 'user' });
    expect((await call(token, 'POST', `/accounts/${a}/members/${m}/restoration`)).status).toBe(409);

    const invited = await call(token, 'POST', `/accounts/${a}/invitations`, { body: { address: member.email, role: 'user' } });
    expect(invited.status).toBe(409);
    expect(invited.body.type).toBe(`${netid.issuer}/api/v1/problems#already-member`);
    const stranger = await createPerson(netid.context);
    const existing = await call(token, 'POST', `/accounts/${a}/invitations`, { body: { address: stranger.email.toUpperCase() } });
    expect(existing).toMatchObject({ status: 201, body: { sent: 'membership', member: { profile_id: stranger.profile.id, state: 'invited', role: 'user' } } });
    const nobody = await call(token, 'POST', `/accounts/${a}/invitations`, { body: { address: `new.${Date.now()}@example.test`, role: 'admin' } });
    expect(nobody).toMatchObject({ status: 202, body: { sent: 'sign-up-link' } });

    const name = `renamed-${Date.now().toString(36)}`;
    expect((await call(token, 'PATCH', `/accounts/${a}`, { body: { name } })).body).toMatchObject({ name, renamed_at: expect.any(String) });
    const again = await call(token, 'PATCH', `/accounts/${a}`, { body: { name: `${name}-again` } });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe(`${netid.issuer}/api/v1/problems#account-already-renamed`);
    // The account's client moved with the name.
    expect((await netid.context.queries.clients.findMetadata(account.clientId))?.redirect_uris).toEqual([`https://${name}.bitrix24.test/oauth/netid/callback`]);
  });

  test('a signed-in active admin may manage the account, and only that one', async () => {
    expect((await call(tokens.admin, 'GET', `/accounts/${account.account.id}/members`)).status).toBe(200);
    expect((await call(tokens.admin, 'GET', `/accounts/${other.account.id}/members`)).status).toBe(403);
    // Another account's name, or a name nobody has, answers alike: a token cannot probe.
    expect((await call(tokens.admin, 'GET', `/accounts/${other.account.name}`)).status).toBe(403);
    expect((await call(tokens.admin, 'GET', '/accounts/no-such-account')).status).toBe(403);
  });

  test('the last active admin can be neither demoted nor dismissed', async () => {
    const sole = await createPerson(netid.context);
    const alone = await createTestAccount(netid.context, sole);
    const token = await clientApiToken(netid, alone, 'account:admin');
    const demoted = await call(token, 'PATCH', `/accounts/${alone.account.id}/members/${sole.profile.id}`, { body: { role: 'user' } });
    expect(demoted.status).toBe(409);
    expect(demoted.body.type).toBe(`${netid.issuer}/api/v1/problems#last-admin`);
    expect((await call(token, 'POST', `/accounts/${alone.account.id}/members/${sole.profile.id}/dismissal`)).status).toBe(409);
    expect(await netid.context.queries.memberships.find(alone.account.id, sole.profile.id)).toMatchObject({ role: 'admin', state: 'active' });
  });

  test('operators may manage any account, and list and create them', async () => {
    expect((await call(tokens.operator, 'GET', `/accounts/${other.account.id}/members`)).status).toBe(200);
    expect((await call(tokens.operator, 'GET', '/accounts/no-such-account')).status).toBe(404);
    const created = await call(tokens.operator, 'POST', '/accounts', { body: { admin_profile_id: member.profile.id } });
    expect(created).toMatchObject({ status: 201, body: { account: { name: expect.stringMatching(/^b24-/) }, client_secret: expect.any(String) } });
    const page = await call(tokens.operator, 'GET', `/accounts?name=${created.body.account.name}`);
    expect(page.body.items.map((item: { id: string }) => item.id)).toEqual([created.body.account.id]);
    for (const token of [tokens.account, tokens.admin]) {
      expect((await call(token, 'GET', '/accounts')).status).toBe(403);
      expect((await call(token, 'POST', '/accounts', { body: { admin_profile_id: member.profile.id } })).status).toBe(403);
    }
    expect((await call(undefined, 'GET', '/accounts')).status).toBe(401);
  });

  test('members are listed a page at a time, in a stable order, with a Link to the next page', async () => {
    const crowd = await createTestAccount(netid.context, await createPerson(netid.context));
    for (let i = 0; i < 5; i++) await addTestMember(netid.context, crowd.account.id, (await createPerson(netid.context)).profile.id);
    const token = await clientApiToken(netid, crowd, 'account:admin');
    const seen: string[] = [];
    let path = `/accounts/${crowd.account.id}/members?limit=2`;
    for (let pages = 0; pages < 10; pages++) {
      const page = await call(token, 'GET', path);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((item: { profile_id: string }) => item.profile_id));
      if (!page.body.next) {
        expect(page.headers.get('link')).toBeNull();
        break;
      }
      const link = /^<([^>]+)>; rel="next"$/.exec(page.headers.get('link') ?? '')![1]!;
      expect(new URL(link).searchParams.get('cursor')).toBe(page.body.next);
      // Someone joins between two pages: nobody already seen comes again, nobody is skipped.
      if (pages === 0) await addTestMember(netid.context, crowd.account.id, (await createPerson(netid.context)).profile.id);
      path = link.slice(`${netid.issuer}/api/v1`.length);
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(6);
    expect((await call(token, 'GET', `/accounts/${crowd.account.id}/members?cursor=not-a-cursor`)).status).toBe(400);
    // A cursor in the right wrapping but made up: its position is not a member's id.
    const madeUp = Buffer.from(JSON.stringify({ after: 'zzz' })).toString('base64url');
    expect((await call(token, 'GET', `/accounts/${crowd.account.id}/members?cursor=${madeUp}`)).status).toBe(400);
    expect((await call(token, 'GET', `/accounts/${crowd.account.id}/members?limit=101`)).status).toBe(400);
  });

  test('a write retried with its Idempotency-Key is done once and answered the same', async () => {
    const address = `retried.${Date.now()}@example.test`;
    const headers = { 'Idempotency-Key': `invite-${address}` };
    const first = await call(tokens.account, 'POST', `/accounts/${account.account.id}/invitations`, { body: { address }, headers });
    const second = await call(tokens.account, 'POST', `/accounts/${account.account.id}/invitations`, { body: { address }, headers });
    expect(first.status).toBe(202);
    expect(second).toMatchObject({ status: 202, body: first.body });
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await netid.context.db('invitations').where({ address })).toHaveLength(1);
    expect(await netid.context.db('outbox').where({ recipient: address })).toHaveLength(1);
    const reused = await call(tokens.account, 'POST', `/accounts/${account.account.id}/invitations`, { body: { address: `other.${address}` }, headers });
    expect(reused.status).toBe(422);
    // Another caller's key of the same name is its own.
    expect((await call(tokens.operator, 'POST', `/accounts/${account.account.id}/invitations`, { body: { address: `ops.${address}` }, headers })).status).toBe(202);
  });

  test.each<[string, number, { method: string; path: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }, string | undefined]>([
    ['malformed JSON', 400, { method: 'POST', path: '/invitations', rawBody: '{"address": ' }, undefined],
    ['a JSON array', 400, { method: 'POST', path: '/invitations', rawBody: '[]' }, undefined],
    ['a wrong type', 400, { method: 'POST', path: '/invitations', body: { address: 42 } }, '/address'],
    ['an unknown field', 400, { method: 'POST', path: '/invitations', body: { address: 'a@example.test', admin: true } }, '/admin'],
    ['a role that does not exist', 400, { method: 'POST', path: '/invitations', body: { address: 'a@example.test', role: 'owner' } }, '/role'],
    ['an address that is neither email nor phone', 400, { method: 'POST', path: '/invitations', body: { address: '<b>x</b>@example.test' } }, '/address'],
    ['a NUL byte', 400, { method: 'POST', path: '/invitations', body: { address: 'a\u0000b@example.test' } }, '/address'],
    ['a body too large', 413, { method: 'POST', path: '/invitations', rawBody: JSON.stringify({ address: 'x'.repeat(70_000) }) }, undefined],
    ['a body that is not JSON', 415, { method: 'POST', path: '/invitations', rawBody: 'address=a@example.test', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, undefined],
    ['a profile id that is not one', 400, { method: 'GET', path: '/members/not-a-uuid' }, 'profile'],
    ['a member that does not exist', 404, { method: 'GET', path: '/members/7d1e1c52-8a0e-4f7e-9a4c-0b8c2a7d3f10' }, undefined],
    ['an unknown query parameter', 400, { method: 'GET', path: '/members?sort=name' }, undefined],
    ['a rename to a reserved name', 400, { method: 'PATCH', path: '', body: { name: 'admin' } }, undefined],
    ['a method the address does not take', 405, { method: 'PUT', path: '', body: {} }, undefined],
    ['an address under the API that does not exist', 404, { method: 'GET', path: '/nothing-here' }, undefined],
  ])('%s: a problem document with status %d', async (_case, status, request, pointer) => {
    const path = `/accounts/${other.account.id}${request.path}`;
    const token = await clientApiToken(netid, other, 'account:admin');
    const answer = await callApi(netid, token, request.method, path, request);
    if (status !== 405 && !request.path.startsWith('/nothing')) checker.expectConformant(request.method, path, answer);
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ type: expect.stringContaining('/api/v1/problems#'), title: expect.any(String), status });
    if (pointer) expect(answer.body.errors.map((error: { pointer: string }) => error.pointer)).toContain(pointer);
  });

  test('a DPoP-bound token works with its proof, and not without', async () => {
    const config = await discoverAsClient(netid.issuer, other.clientId, other.clientSecret);
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair());
    const bound = await oidc.clientCredentialsGrant(config, { resource: apiResource(netid), scope: 'account:admin' }, { DPoP });
    expect(bound.token_type.toLowerCase()).toBe('dpop');
    const url = new URL(`${netid.issuer}/api/v1/accounts/${other.account.id}/members`);
    const response = await oidc.fetchProtectedResource(config, bound.access_token, url, 'GET', undefined, undefined, { DPoP });
    expect(response.status).toBe(200);
    const asBearer = await callApi(netid, bound.access_token, 'GET', `/accounts/${other.account.id}/members`);
    expect(asBearer.status).toBe(401);
  });
});
