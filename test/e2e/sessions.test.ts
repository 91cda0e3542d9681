import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import { startBackchannelReceiver, type BackchannelReceiver } from '../support/backchannel-receiver.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { signInToNetwork, submitPage } from '../support/network.js';
import { discoverAsClient, exchangeCode, startAuthorization } from '../support/relying-party.js';
import { enrolAuthenticatorApp } from '../support/second-factors.js';
import { isPage, UserAgent, type Page } from '../support/user-agent.js';
import { waitFor } from '../support/wait.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/**
 * The sessions on the Security page (which browser, from where, since when,
 * signed in to what), ending one from another browser (its refresh tokens
 * stop working and its account is told by back-channel logout), the notice of
 * a sign-in from a new browser, and the fresh sign-in a change needs once the
 * last one is more than five minutes old.
 */
describe.each(backends)('sessions and re-authentication (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let receiver: BackchannelReceiver;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    // The receiver listens on loopback, which oidc-provider refuses to reach unless told otherwise.
    netid = await startNetid(database.db, { env: { OUTGOING_PRIVATE_NETWORKS: 'allow', OUTBOX_POLL_MS: '100' } });
    netid.context.startDelivery();
    receiver = await startBackchannelReceiver();
  });

  afterAll(async () => {
    await netid?.stop();
    await receiver?.stop();
    await database?.dispose();
  });

  /** The person's account, its client told of logouts at the receiver. */
  async function listeningAccount(person: TestPerson) {
    const created = await createTestAccount(netid.context, person);
    const { clients } = netid.context.queries;
    const stored = (await clients.findByAccount(created.account.id))!;
    await clients.updateMetadata(stored.client_id, { ...stored.metadata, backchannel_logout_uri: receiver.url });
    return {
      created,
      config: await discoverAsClient(netid.issuer, created.clientId, created.clientSecret),
      redirectUri: (accountClientUris(netid.context.config.accountUrlPattern, created.account.name).redirect_uris as string[])[0]!,
    };
  }

  const sessionItems = (page: Page) =>
    page.document.querySelectorAll('li.session').map((item) => ({ text: item.text.replace(/\s+/g, ' ').trim(), current: item.getAttribute('aria-current') === 'true', form: item.querySelector('form') }));

  test('lists each browser with what it is, where from and what it entered; ending one revokes its tokens and tells its account', async () => {
    const person = await createPerson(netid.context);
    const account = await listeningAccount(person);
    const phone = new UserAgent(netid.issuer, { userAgent: IPHONE });
    const laptop = new UserAgent(netid.issuer, { userAgent: FIREFOX });

    const pending = await startAuthorization(account.config, account.redirectUri, { scope: 'openid offline_access', prompt: 'consent' });
    const login = await phone.page(pending.url.toString());
    const callback = await phone.submit(login, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    if (isPage(callback)) throw new Error(callback.html.slice(0, 1000));
    const tokens = await exchangeCode(account.config, callback.location, pending);
    expect(tokens.refresh_token).toBeDefined();
    const phoneSid = tokens.claims()!.sid;

    await signInToNetwork(laptop, person.email, person.password);
    const security = await laptop.page('/network/security');
    const listed = sessionItems(security);
    expect(listed).toHaveLength(2);
    const [mine, other] = [listed.find((item) => item.current)!, listed.find((item) => !item.current)!];
    expect(mine.text).toContain('Firefox 133 on Linux');
    expect(mine.text).toContain('This browser');
    expect(mine.form).toBeNull();
    expect(other.text).toContain('Safari 17 on iOS');
    expect(other.text).toMatch(/Address: (::ffff:)?127\.0\.0\.1/);
    expect(other.text).toContain(`Signed in to: ${account.created.account.name}`);

    const ended = await laptop.submit(security, `form[action="${other.form!.getAttribute('action')}"]`);
    if (!isPage(ended)) throw new Error('ending a session left NetID');
    expect(ended.document.querySelector('[role=status]')?.text).toContain('That session is signed out');
    expect(sessionItems(ended)).toHaveLength(1);

    // The account is told, with the sid its ID token carried, and the phone's refresh token is refused.
    const delivery = await receiver.next();
    const { payload } = await jwtVerify(delivery.form.get('logout_token')!, createRemoteJWKSet(new URL(account.config.serverMetadata().jwks_uri!)), {
      issuer: netid.issuer,
      audience: account.created.clientId,
    });
    expect(payload).toMatchObject({ sub: person.profile.id, sid: phoneSid });
    await expect(oidc.refreshTokenGrant(account.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The phone is signed out; the laptop is not.
    expect((await phone.page('/network')).document.querySelector('form[action$="/login"]')).not.toBeNull();
    expect((await laptop.page('/network')).document.querySelector('#profile-name')).not.toBeNull();
  });

  test('a sign-in from a browser the profile never used is told by email; its first browser and a known one are not', async () => {
    const person = await createPerson(netid.context);
    const newSignIns = async () => (await netid.context.db('outbox').where({ recipient: person.email, template: 'new-sign-in' })).length;
    const laptop = new UserAgent(netid.issuer, { userAgent: FIREFOX });
    await signInToNetwork(laptop, person.email, person.password);
    await laptop.redirect('/session/end?client_id=netid-network').catch(() => undefined);
    await signInToNetwork(laptop, person.email, person.password);
    expect(await newSignIns()).toBe(0);

    await signInToNetwork(new UserAgent(netid.issuer, { userAgent: IPHONE }), person.email, person.password);
    expect(await newSignIns()).toBe(1);
    const mail = await waitFor('the new sign-in notice', () => netid.context.devOutbox!.entries().find((entry) => entry.to === person.email));
    expect(mail.subject).toBe('New sign-in to your Bitrix24 Network profile');
    expect(mail.text).toContain('Safari 17 (iOS');
    expect(mail.text).toMatch(/127\.0\.0\.1/);
    expect(mail.text).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d \(UTC\)/);
    expect(mail.text).toContain(`${netid.issuer}/network/security`);
  });

  test('changing the email more than five minutes after signing in asks for the password and the second step again, then comes back', async () => {
    const person = await createPerson(netid.context);
    const app = await enrolAuthenticatorApp(netid.context, person.profile);
    const agent = new UserAgent(netid.issuer);
    const first = await agent.page('/network');
    const asked = await agent.submit(first, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    if (!isPage(asked)) throw new Error('signing in left NetID');
    const signedIn = await submitPage(agent, asked, 'form[action$="/second-factor/totp"]', { code: await app.nextCode() });
    expect(signedIn.document.querySelector('#profile-name')).not.toBeNull();

    // Just signed in: the change goes ahead.
    const emailPage = await agent.page('/network/email');
    const sent = await submitPage(agent, emailPage, 'form[action="/network/email"]', { value: `fresh.${Date.now()}@example.test` });
    expect(sent.url).toBe(`${netid.issuer}/network/email`);
    expect(sent.document.querySelector('form[action="/network/email/confirm"]')).not.toBeNull();

    // Six minutes later, as far as the session knows.
    await netid.context.db('oidc_models')
      .where('model', 'Session')
      .whereRaw("payload->>'accountId' = ?", [person.profile.id])
      .update({ payload: netid.context.db.raw("jsonb_set(payload, '{loginTs}', to_jsonb((payload->>'loginTs')::bigint - 360))") });
    const another = `later.${Date.now()}@example.test`;
    const again = await submitPage(agent, sent, 'form[action="/network/email"]', { value: another });
    expect(again.document.querySelector('form[action$="/login"]')).not.toBeNull();
    expect(again.document.querySelector('[role=status]')?.text).toContain('confirm that it is you');
    expect(again.document.querySelector('input[name=identifier]')?.getAttribute('value')).toBe(person.email);
    const secondStep = await submitPage(agent, again, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    expect(secondStep.document.querySelector('form[action$="/second-factor/totp"]')).not.toBeNull();
    const back = await submitPage(agent, secondStep, 'form[action$="/second-factor/totp"]', { code: await app.nextCode() });
    expect(back.url).toBe(`${netid.issuer}/network/email`);
    const changed = await submitPage(agent, back, 'form[action="/network/email"]', { value: another });
    expect(changed.document.querySelector('form[action="/network/email/confirm"]')).not.toBeNull();
    expect(changed.html).toContain(another);

    // The password page itself asks first, once the sign-in is old.
    await netid.context.db('oidc_models')
      .where('model', 'Session')
      .whereRaw("payload->>'accountId' = ?", [person.profile.id])
      .update({ payload: netid.context.db.raw("jsonb_set(payload, '{loginTs}', to_jsonb((payload->>'loginTs')::bigint - 360))") });
    expect((await agent.page('/network/password')).document.querySelector('form[action$="/login"]')).not.toBeNull();
  });
});
