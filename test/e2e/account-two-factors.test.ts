import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { addTestMember, createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { callApi, clientApiToken, openApiChecker } from '../support/management-api.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { alertText, signInToNetwork, submitPage } from '../support/network.js';
import { enrolAuthenticatorApp } from '../support/second-factors.js';
import { UserAgent } from '../support/user-agent.js';

/** An account's rule that everyone signing in to it proves two factors, set through the management API and on the account's network page. */
describe.each(backends)('an account that requires two factors (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let admin: TestPerson;
  let account: CreatedAccount;
  let checker: Awaited<ReturnType<typeof openApiChecker>>;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    admin = await createPerson(netid.context);
    account = await createTestAccount(netid.context, admin);
    checker = await openApiChecker(netid);
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  test('is set and cleared by the account\'s back end with PATCH /accounts/{account}', async () => {
    const token = await clientApiToken(netid, account, 'account:admin');
    const call = async (method: string, path: string, body?: unknown) => {
      const answer = await callApi(netid, token, method, path, { body });
      checker.expectConformant(method, path, answer);
      return answer;
    };
    expect((await call('GET', `/accounts/${account.account.id}`)).body).toMatchObject({ require_second_factor: false });
    const set = await call('PATCH', `/accounts/${account.account.id}`, { require_second_factor: true });
    expect(set).toMatchObject({ status: 200, body: { id: account.account.id, require_second_factor: true, renamed_at: null } });
    expect((await netid.context.queries.accounts.findById(account.account.id))?.require_second_factor).toBe(true);
    expect((await call('PATCH', `/accounts/${account.account.id}`, {})).status).toBe(400);
    expect((await call('PATCH', `/accounts/${account.account.id}`, { require_second_factor: 'yes' })).status).toBe(400);
    expect((await call('PATCH', `/accounts/${account.account.id}`, { require_second_factor: false })).body).toMatchObject({ require_second_factor: false });
    const audit = await netid.context.db('audit_events').where({ kind: 'account.second_factor_requirement_changed', account_id: account.account.id }).orderBy('id');
    expect(audit.map((event: { detail: { required: boolean } }) => event.detail.required)).toEqual([true, false]);
  });

  test('is set by an active admin on the account\'s page once the admin has a second factor; a plain member cannot', async () => {
    const agent = new UserAgent(netid.issuer);
    await signInToNetwork(agent, admin.email, admin.password);
    const myNetwork = await agent.page('/network');
    expect(myNetwork.document.querySelector(`a[href="/network/accounts/${account.account.name}/security"]`)).not.toBeNull();
    const page = await agent.page(`/network/accounts/${account.account.name}/security`);
    const refused = await submitPage(agent, page, 'form[action$="/security"]', { require_second_factor: 'on' });
    expect(refused.status).toBe(409);
    expect(alertText(refused)).toContain('Set up two-step verification for your own profile first');
    expect((await netid.context.queries.accounts.findById(account.account.id))?.require_second_factor).toBe(false);

    await enrolAuthenticatorApp(netid.context, admin.profile);
    const saved = await submitPage(agent, refused, 'form[action$="/security"]', { require_second_factor: 'on' });
    expect(saved.url).toMatch(/\/network\?done=/);
    expect(saved.document.querySelector('[role=status]')?.text).toContain('sign-in rules are saved');
    expect((await netid.context.queries.accounts.findById(account.account.id))?.require_second_factor).toBe(true);
    const shown = await agent.page(`/network/accounts/${account.account.name}/security`);
    expect(shown.document.querySelector('#require_second_factor')?.hasAttribute('checked')).toBe(true);

    const member = await createPerson(netid.context);
    await addTestMember(netid.context, account.account.id, member.profile.id);
    const memberAgent = new UserAgent(netid.issuer);
    await signInToNetwork(memberAgent, member.email, member.password);
    const notAdmin = await memberAgent.page(`/network/accounts/${account.account.name}/security`);
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.document.querySelector('form[action$="/security"]')).toBeNull();
  });
});
