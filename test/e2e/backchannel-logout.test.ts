import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { en } from '../../src/i18n/en.js';
import { backchannelLogoutsSettled } from '../../src/oidc/backchannel-logout.js';
import { startBackchannelReceiver, type BackchannelDelivery, type BackchannelReceiver, type ReceiverBehaviour } from '../support/backchannel-receiver.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { addTestMember, createPerson, dismissAsOperator, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { signInToNetwork, submitPage } from '../support/network.js';
import { discoverAsClient, exchangeCode, startAuthorization } from '../support/relying-party.js';
import { isPage, UserAgent, type Page } from '../support/user-agent.js';
import { waitFor } from '../support/wait.js';

/** An account whose client registered a back-channel logout URI that reaches a receiver of the test's. */
interface ListeningAccount {
  created: CreatedAccount;
  config: oidc.Configuration;
  redirectUri: string;
  receiver: BackchannelReceiver;
}

describe.each(backends)("accounts are told when NetID itself ends a profile's sessions (%s)", (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  const receivers: BackchannelReceiver[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    // The receivers listen on loopback, which oidc-provider refuses to reach unless told otherwise.
    netid = await startNetid(database.db, { env: { OUTGOING_PRIVATE_NETWORKS: 'allow' } });
    netid.context.startDelivery();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  afterAll(async () => {
    await netid?.stop();
    await Promise.all(receivers.map((receiver) => receiver.stop()));
    await database?.dispose();
  });

  /** An account administered by `admin`, its client's back-channel logout URI pointed at a new receiver (plus `query`). */
  async function listeningAccount(admin: TestPerson, behaviour: ReceiverBehaviour & { query?: string } = {}): Promise<ListeningAccount> {
    const created = await createTestAccount(netid.context, admin);
    const receiver = await startBackchannelReceiver(behaviour);
    receivers.push(receiver);
    const { clients } = netid.context.queries;
    const stored = (await clients.findByAccount(created.account.id))!;
    await clients.updateMetadata(stored.client_id, { ...stored.metadata, backchannel_logout_uri: `${receiver.url}${behaviour.query ?? ''}` });
    return {
      created,
      config: await discoverAsClient(netid.issuer, created.clientId, created.clientSecret),
      redirectUri: (accountClientUris(netid.context.config.accountUrlPattern, created.account.name).redirect_uris as string[])[0]!,
      receiver,
    };
  }

  /** Signs `person` in to the account in `agent` (through the form, or by SSO) and returns the `sid` the account received. */
  async function signInTo(agent: UserAgent, account: ListeningAccount, person: TestPerson): Promise<string> {
    const pending = await startAuthorization(account.config, account.redirectUri);
    let answer = await agent.request(pending.url.toString());
    if (isPage(answer) && answer.document.querySelector('form[action$="/login"]')) {
      answer = await agent.submit(answer, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    }
    if (isPage(answer)) throw new Error(`signing in to ${account.created.account.name} stopped at a page (${answer.status})`);
    const sid = (await exchangeCode(account.config, answer.location, pending)).claims()!.sid;
    if (typeof sid !== 'string') throw new Error('the ID token carries no sid');
    return sid;
  }

  /** Checks a delivery as the account would (a logout token NetID signed for it) and returns its claims. */
  async function logoutTokenIn(delivery: BackchannelDelivery, account: ListeningAccount) {
    expect(delivery.contentType).toBe('application/x-www-form-urlencoded');
    const jwks = createRemoteJWKSet(new URL(account.config.serverMetadata().jwks_uri!));
    const { payload } = await jwtVerify(delivery.form.get('logout_token')!, jwks, {
      issuer: netid.issuer,
      audience: account.created.clientId,
      typ: 'logout+jwt',
    });
    expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(typeof payload.jti).toBe('string');
    expect(payload).not.toHaveProperty('nonce');
    return payload;
  }

  /** The `sid`s of the next `count` logout tokens the account receives, each checked, in any order. */
  async function sidsTold(account: ListeningAccount, sub: string, count: number): Promise<string[]> {
    const sids: string[] = [];
    for (let i = 0; i < count; i++) {
      const claims = await logoutTokenIn(await account.receiver.next(), account);
      expect(claims.sub).toBe(sub);
      sids.push(claims.sid as string);
    }
    return sids.sort();
  }

  /** "Forgot password?" from the account's sign-in, through the emailed code, to a new password. */
  async function recoverAccess(person: TestPerson, account: ListeningAccount, password: string): Promise<Page> {
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(account.config, account.redirectUri);
    const login = await agent.page(pending.url.toString());
    const form = await agent.page(new URL(login.document.querySelector('a[href$="/recover"]')!.getAttribute('href')!, login.url).toString());
    const codeForm = await submitPage(agent, form, 'form[action$="/recover"]', { identifier: person.email });
    const message = await waitFor('the recovery code', () => netid.context.devOutbox!.entries().find((entry) => entry.to === person.email));
    const code = /\b(\d{6})\b/.exec(message.text)![1]!;
    return submitPage(agent, codeForm, 'form[action$="/recover/code"]', { code, password });
  }

  const settled = () => backchannelLogoutsSettled(netid.context.provider);

  test('after a password recovery the account receives a logout token for the session that signed in to it', async () => {
    const person = await createPerson(netid.context);
    const account = await listeningAccount(person);
    const sid = await signInTo(new UserAgent(netid.issuer), account, person);
    expect(account.receiver.deliveries).toHaveLength(0);

    const done = await recoverAccess(person, account, 'a fresh pass phrase after recovery');
    expect(done.document.querySelector('[role=status]')!.text).toBe(en['recover.done']);

    expect(await sidsTold(account, person.profile.id, 1)).toEqual([sid]);
    await settled();
    expect(account.receiver.deliveries).toHaveLength(1);
  });

  test('a password change logs the other browser out at the account, and not the browser that made it', async () => {
    const person = await createPerson(netid.context);
    const account = await listeningAccount(person);
    const here = new UserAgent(netid.issuer);
    const hereSid = await signInTo(here, account, person);
    const elsewhere = new UserAgent(netid.issuer);
    const elsewhereSid = await signInTo(elsewhere, account, person);
    expect(elsewhereSid).not.toBe(hereSid);

    await signInToNetwork(here, person.email, person.password);
    const grants = () =>
      netid.context.db('oidc_models').where('model', 'Grant').whereRaw("payload->>'accountId' = ?", [person.profile.id]).pluck('id');
    const before = await grants();
    const changed = await submitPage(here, await here.page('/network/password'), 'form[action="/network/password"]', {
      current_password: person.password,
      new_password: 'a fresh long passphrase',
    });
    expect(changed.document.querySelector('[role=status]')?.text).toContain('password is changed');

    expect(await sidsTold(account, person.profile.id, 1)).toEqual([elsewhereSid]);
    // Only the other browser's grant at the account goes; the browser that stays keeps its tokens there.
    const after = await grants();
    expect(after).toHaveLength(before.length - 1);
    expect(before).toEqual(expect.arrayContaining(after));
    await settled();
    expect(account.receiver.deliveries).toHaveLength(1);
  });

  test("after the profile is deleted the account receives a logout token for each of the profile's sessions there", async () => {
    const person = await createPerson(netid.context);
    const account = await listeningAccount(await createPerson(netid.context));
    await addTestMember(netid.context, account.created.account.id, person.profile.id, { role: 'user', state: 'active' });
    const browser = new UserAgent(netid.issuer);
    const sids = [await signInTo(browser, account, person), await signInTo(new UserAgent(netid.issuer), account, person)].sort();
    // Deletion waits until no account is connected; the dismissal already tells the account once.
    await dismissAsOperator(netid.context, account.created.account.id, person.profile.id);
    expect(await sidsTold(account, person.profile.id, 2)).toEqual(sids);

    // The network sessions still name the account, and deleting the profile ends them: it hears of both again.
    await signInToNetwork(browser, person.email, person.password);
    const deleted = await submitPage(browser, await browser.page('/network/delete'), 'form[action="/network/delete"]', { password: person.password });
    expect(deleted.document.querySelector('h1')?.text).toContain('deleted');
    expect(await sidsTold(account, person.profile.id, 2)).toEqual(sids);
    await settled();
    expect(account.receiver.deliveries).toHaveLength(4);
  });

  test('a dismissal tells only that account, and only of the sessions that signed in to it', async () => {
    const admin = await createPerson(netid.context);
    const person = await createPerson(netid.context);
    const leaving = await listeningAccount(admin);
    const staying = await listeningAccount(admin);
    for (const account of [leaving, staying]) {
      await addTestMember(netid.context, account.created.account.id, person.profile.id, { role: 'user', state: 'active' });
    }
    const browser = new UserAgent(netid.issuer);
    const sid = await signInTo(browser, leaving, person);
    await signInTo(browser, staying, person);
    // A browser that never opened the account being left: nothing to tell it about.
    await signInTo(new UserAgent(netid.issuer), staying, person);

    await dismissAsOperator(netid.context, leaving.created.account.id, person.profile.id);
    expect(await sidsTold(leaving, person.profile.id, 1)).toEqual([sid]);
    await settled();
    expect(leaving.receiver.deliveries).toHaveLength(1);
    expect(staying.receiver.deliveries).toHaveLength(0);
  });

  test('a receiver that answers 500, is down or hangs neither fails nor delays the recovery, and is logged without secrets', async () => {
    const warnings = jest.spyOn(netid.context.logger, 'warn');
    const person = await createPerson(netid.context);
    const failing = await listeningAccount(person, { status: 500, query: '?key=receiver-secret' });
    const down = await listeningAccount(person);
    await down.receiver.stop();
    const hanging = await listeningAccount(person, { hang: true });
    const browser = new UserAgent(netid.issuer);
    for (const account of [failing, down, hanging]) await signInTo(browser, account, person);

    const started = Date.now();
    const done = await recoverAccess(person, failing, 'recovered despite the receivers');
    const took = Date.now() - started;
    expect(done.document.querySelector('[role=status]')!.text).toBe(en['recover.done']);
    // oidc-provider waits 2.5 s for a receiver; the person waited for none of them.
    expect(took).toBeLessThan(2000);
    await failing.receiver.next();
    await hanging.receiver.next();

    await settled();
    const logged = warnings.mock.calls.map(([fields]) => fields as unknown as { clientId: string; reason: string });
    expect(logged).toEqual(
      expect.arrayContaining([
        { clientId: failing.created.clientId, reason: 'receiver answered 500' },
        { clientId: down.created.clientId, reason: 'ECONNREFUSED' },
        { clientId: hanging.created.clientId, reason: 'receiver did not answer in time' },
      ]),
    );
    const text = JSON.stringify(warnings.mock.calls);
    expect(text).not.toContain('receiver-secret');
    expect(text).not.toContain(failing.receiver.deliveries[0]!.form.get('logout_token')!);

    // The person goes on signing in with the new password.
    const again = new UserAgent(netid.issuer);
    await signInToNetwork(again, person.email, 'recovered despite the receivers');
    expect((await again.page('/network')).document.querySelector('#profile-name')).not.toBeNull();
  });

  test('a sign-out at NetID that an account refuses to hear still signs the person out, and is logged without secrets', async () => {
    const warnings = jest.spyOn(netid.context.logger, 'warn');
    const person = await createPerson(netid.context);
    const failing = await listeningAccount(person, { status: 500, query: '?key=receiver-secret' });
    const browser = new UserAgent(netid.issuer);
    await signInTo(browser, failing, person);

    const confirm = await browser.page('/session/end');
    const signedOut = await browser.submit(confirm, 'form#op\\.logoutForm', { logout: 'yes' });
    expect(isPage(signedOut) ? signedOut.status : 200).toBe(200);
    await failing.receiver.next();

    expect(warnings.mock.calls.map(([fields]) => fields)).toContainEqual({ clientId: failing.created.clientId, reason: 'receiver answered 500' });
    const text = JSON.stringify(warnings.mock.calls);
    expect(text).not.toContain('receiver-secret');
    expect(text).not.toContain(failing.receiver.deliveries[0]!.form.get('logout_token')!);
    // Signed out at NetID all the same: the account's next sign-in asks for the password.
    const again = await startAuthorization(failing.config, failing.redirectUri);
    const page = await browser.request(again.url.toString());
    expect(isPage(page) && page.document.querySelector('form[action$="/login"]')).toBeTruthy();
  });
});
