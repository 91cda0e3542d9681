import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import sharp from 'sharp';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { addTestMember, createPerson, dismissAsOperator, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { accountIdToken, alertText, signInToNetwork, submitPage } from '../support/network.js';
import { startSmsGateway, type SmsGateway } from '../support/sms-gateway.js';
import { UserAgent } from '../support/user-agent.js';

describe.each(backends)('the network profile pages (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let mailbox: Mailbox;
  let sms: SmsGateway;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    mailbox = await startMailbox();
    sms = await startSmsGateway();
    netid = await startNetid(database.db, {
      env: { SMTP_URL: mailbox.url, SMS_GATEWAY_URL: sms.url, DEV_OUTBOX: 'false', OUTBOX_POLL_MS: '100' },
    });
    netid.context.startDelivery();
  });

  afterAll(async () => {
    await netid?.stop();
    await mailbox?.stop();
    await sms?.stop();
    await database?.dispose();
  });

  /** A person who administers one account, signed in to My Network in their own browser. */
  async function signedInAdmin(names: { firstName?: string; lastName?: string } = {}) {
    const person = await createPerson(netid.context, names);
    const created = await createTestAccount(netid.context, person);
    const agent = new UserAgent(netid.issuer);
    const page = await signInToNetwork(agent, person.email, person.password);
    return { person, account: created.account.name, agent, page };
  }

  const { accounts, profiles } = { accounts: () => netid.context.queries.accounts, profiles: () => netid.context.queries.profiles };

  test('My Network asks a stranger to sign in, then lists every account with its role, and one click accepts an invitation and enters', async () => {
    const { person, account, agent } = await signedInAdmin();
    const other = await createPerson(netid.context);
    const invitedTo = await createTestAccount(netid.context, other);
    const dismissedFrom = await createTestAccount(netid.context, other);
    await addTestMember(netid.context, invitedTo.account.id, person.profile.id, { role: 'user', state: 'invited' });
    await addTestMember(netid.context, dismissedFrom.account.id, person.profile.id, { role: 'user', state: 'active' });
    await dismissAsOperator(netid.context, dismissedFrom.account.id, person.profile.id);

    const stranger = new UserAgent(netid.issuer);
    expect((await stranger.page('/network')).document.querySelector('form[action$="/login"]')).not.toBeNull();

    const page = await agent.page('/network');
    const listed = page.document.querySelectorAll('.account').map((li) => li.querySelector('.account-name')!.text);
    expect(listed.sort()).toEqual([account, invitedTo.account.name].sort());
    const own = page.document.querySelectorAll('.account').find((li) => li.text.includes(account))!;
    expect(own.text).toContain('Administrator');
    const enter = new URL(own.querySelector('a.primary')!.getAttribute('href')!);
    expect(`${enter.origin}${enter.pathname}`).toBe(`https://${account}.bitrix24.test/oauth/netid/login`);
    expect(enter.searchParams.get('iss')).toBe(netid.issuer);
    expect(enter.searchParams.get('target_link_uri')).toBe(`https://${account}.bitrix24.test/`);

    const invitation = page.document.querySelectorAll('.account').find((li) => li.text.includes(invitedTo.account.name))!;
    expect(invitation.text).toContain('invitation waiting');
    // The one link is the account's own sign-in, like "Open"; no separate step accepts first.
    const link = invitation.querySelector('a.primary')!;
    expect(link.text.trim()).toBe(`Accept the invitation and open ${invitedTo.account.name}`);
    const target = new URL(link.getAttribute('href')!);
    expect(`${target.origin}${target.pathname}`).toBe(`https://${invitedTo.account.name}.bitrix24.test/oauth/netid/login`);
    expect(invitation.querySelectorAll('form, button')).toHaveLength(0);
    // What that click leads to: the account's authorization request, answered by the network session.
    const claims = await accountIdToken(netid.context, agent, netid.issuer, invitedTo.account.name);
    expect(claims.membership).toEqual({ account: invitedTo.account.name, role: 'user', state: 'active' });
    expect((await netid.context.queries.memberships.find(invitedTo.account.id, person.profile.id))?.state).toBe('active');
    const after = await agent.page('/network');
    const entered = after.document.querySelectorAll('.account').find((li) => li.text.includes(invitedTo.account.name))!;
    expect(entered.text).not.toContain('invitation waiting');
    expect(entered.querySelector('a.primary')!.text.trim()).toBe(`Open ${invitedTo.account.name}`);
  });

  test('new names reach the accounts only when the person asks for it', async () => {
    const { person, account, agent } = await signedInAdmin({ firstName: 'Grace', lastName: 'Before' });
    const form = await agent.page('/network/profile');

    const kept = await submitPage(agent, form, 'form[action="/network/profile"]', { first_name: 'Gracie', last_name: 'Middle', propagate: '' });
    expect(kept.document.querySelector('[role=status]')?.text).toContain('keep the names');
    expect((await profiles().findById(person.profile.id))!.first_name).toBe('Gracie');
    expect(await accountIdToken(netid.context, agent, netid.issuer, account)).toMatchObject({ given_name: 'Grace', family_name: 'Before' });

    const spread = await submitPage(agent, kept, 'form[action="/network/profile"]', { first_name: 'Grace', last_name: 'After', propagate: 'on' });
    expect(spread.document.querySelector('[role=status]')?.text).toContain('every connected Bitrix24 account');
    expect(await accountIdToken(netid.context, agent, netid.issuer, account)).toMatchObject({ given_name: 'Grace', family_name: 'After', name: 'Grace After' });
  });

  test('a connected phone and email reach the accounts only with the option, and the phone then signs in', async () => {
    const { person, account, agent } = await signedInAdmin();
    const phone = '+442079460958';
    const sent = sms.received.length;
    let page = await agent.page('/network/phone');
    page = await submitPage(agent, page, 'form[action="/network/phone"]', { value: '+44 20 7946 0958', propagate: '' });
    expect(page.document.querySelector('form[action="/network/phone/confirm"]')).not.toBeNull();
    page = await submitPage(agent, page, 'form[action="/network/phone/confirm"]', { code: await sms.codeFor(phone, sent) });
    expect(page.document.querySelector('[role=status]')?.text).toContain('phone number is confirmed');
    expect(await profiles().findById(person.profile.id)).toMatchObject({ phone, phone_verified: true });
    const before = await accountIdToken(netid.context, agent, netid.issuer, account);
    expect(before.phone_number).toBeUndefined();

    // An email connected with the option on becomes the account's Contact email too.
    const email = `new.${person.profile.id.slice(0, 8)}@example.test`;
    page = await submitPage(agent, await agent.page('/network/email'), 'form[action="/network/email"]', { value: email.toUpperCase(), propagate: 'on' });
    page = await submitPage(agent, page, 'form[action="/network/email/confirm"]', { code: await mailbox.codeFor(email) });
    expect(page.document.querySelector('[role=status]')?.text).toContain('email is confirmed');
    const after = await accountIdToken(netid.context, agent, netid.issuer, account);
    expect(after).toMatchObject({ email, email_verified: true });
    expect(after.phone_number).toBeUndefined();

    // The confirmed phone is now a way to sign in.
    const phoneBrowser = new UserAgent(netid.issuer);
    const signedIn = await signInToNetwork(phoneBrowser, '+44 (20) 7946-0958', person.password);
    expect(signedIn.document.querySelector('#profile-name')).not.toBeNull();
  });

  test('a phone or email of another profile is refused once its owner proves it with the code', async () => {
    const { agent } = await signedInAdmin();
    const owner = await createPerson(netid.context);
    const page = await submitPage(agent, await agent.page('/network/email'), 'form[action="/network/email"]', { value: owner.email, propagate: 'on' });
    // Nothing told before the code: the page is the same as for a free address.
    expect(page.document.querySelector('form[action="/network/email/confirm"]')).not.toBeNull();
    const refused = await submitPage(agent, page, 'form[action="/network/email/confirm"]', { code: await mailbox.codeFor(owner.email) });
    expect(alertText(refused)).toContain('belongs to another Bitrix24 Network profile');
    expect((await profiles().findById(owner.profile.id))!.email).toBe(owner.email);
  });

  test('an admin renames an account once; its client moves with it and the old name stops resolving', async () => {
    const { person, account, agent } = await signedInAdmin();
    const newName = `renamed-${Date.now().toString(36)}`;
    const form = await agent.page(`/network/accounts/${account}/rename`);
    const done = await submitPage(agent, form, 'form[action$="/rename"]', { name: ` ${newName.toUpperCase()} ` });
    expect(done.document.querySelector('[role=status]')?.text).toContain('new name');
    expect(await accounts().findByName(account)).toBeUndefined();
    const renamed = await accounts().findByName(newName);
    const metadata = await netid.context.queries.clients.findMetadata((await netid.context.queries.clients.findByAccount(renamed!.id))!.client_id);
    expect(metadata).toMatchObject({
      redirect_uris: [`https://${newName}.bitrix24.test/oauth/netid/callback`],
      initiate_login_uri: `https://${newName}.bitrix24.test/oauth/netid/login`,
      client_name: newName,
    });
    // The account's client signs in at its new address, and the membership claim names it so.
    expect((await accountIdToken(netid.context, agent, netid.issuer, newName)).membership).toMatchObject({ account: newName });

    const second = await agent.page(`/network/accounts/${newName}/rename`);
    expect(second.status).toBe(409);
    expect(alertText(second)).toContain('renamed only once');
    expect(second.document.querySelector('form[action$="/rename"]')).toBeNull();
    expect((await agent.page(`/network/accounts/${account}/rename`)).status).toBe(404);

    // A plain member may not rename.
    const member = await createPerson(netid.context);
    const other = await createTestAccount(netid.context, person);
    await addTestMember(netid.context, other.account.id, member.profile.id, { role: 'user', state: 'active' });
    const memberAgent = new UserAgent(netid.issuer);
    await signInToNetwork(memberAgent, member.email, member.password);
    expect((await memberAgent.page(`/network/accounts/${other.account.name}/rename`)).status).toBe(403);
  });

  test('a new account from the profile page belongs to this profile, with a random name', async () => {
    const { person, agent, page } = await signedInAdmin();
    const done = await submitPage(agent, page, 'form[action="/network/accounts"]');
    expect(done.document.querySelector('[role=status]')?.text).toContain('new Bitrix24 account is ready');
    const memberships = await netid.context.queries.memberships.listForProfile(person.profile.id);
    expect(memberships).toHaveLength(2);
    expect(memberships.every((m) => m.role === 'admin' && m.state === 'active' && /^b24-[a-z0-9]{8}$/.test(m.account_name))).toBe(true);
    expect(done.document.querySelectorAll('.account')).toHaveLength(2);
  });

  test('a photo reaches every connected account, resized, and is served with caching headers', async () => {
    const { person, account, agent } = await signedInAdmin();
    const image = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#3366cc' } }).png().toBuffer();
    const page = await agent.page('/network/profile');
    const csrf = page.document.querySelector('form[action="/network/profile/photo"] input[name=csrf]')!.getAttribute('value')!;
    const body = new FormData();
    body.set('csrf', csrf);
    body.set('photo', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'me.png');
    const response = await fetch(`${netid.issuer}/network/profile/photo`, {
      method: 'POST',
      body,
      redirect: 'manual',
      headers: { cookie: await agent.jar.getCookieString(netid.issuer), accept: 'text/html' },
    });
    expect(response.status).toBe(303);

    const photo = (await profiles().findById(person.profile.id))!.photo!;
    const claims = await accountIdToken(netid.context, agent, netid.issuer, account);
    expect(claims.picture).toBe(`${netid.issuer}/photos/${photo}`);
    const served = await fetch(claims.picture as string);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(served.headers.get('cache-control')).toContain('immutable');
    expect(await sharp(Buffer.from(await served.arrayBuffer())).metadata()).toMatchObject({ width: 400, height: 400, format: 'jpeg' });
    const small = await fetch(`${claims.picture as string}?size=100`);
    expect(await sharp(Buffer.from(await small.arrayBuffer())).metadata()).toMatchObject({ width: 100, height: 100 });
  });

  test('a password change needs the current password, refuses weak ones, and signs out the other browsers', async () => {
    const { person, agent } = await signedInAdmin();
    const elsewhere = new UserAgent(netid.issuer);
    await signInToNetwork(elsewhere, person.email, person.password);

    let page = await agent.page('/network/password');
    page = await submitPage(agent, page, 'form[action="/network/password"]', { current_password: 'not it at all', new_password: 'a fresh long passphrase' });
    expect(page.status).toBe(400);
    expect(alertText(page)).toContain('not your current password');
    page = await submitPage(agent, page, 'form[action="/network/password"]', { current_password: person.password, new_password: 'password123' });
    expect(alertText(page)).toContain('most common');
    page = await submitPage(agent, page, 'form[action="/network/password"]', { current_password: person.password, new_password: 'a fresh long passphrase' });
    expect(page.document.querySelector('[role=status]')?.text).toContain('password is changed');

    // This browser stays; the other one meets the sign-in screen again.
    expect((await agent.page('/network')).document.querySelector('#profile-name')).not.toBeNull();
    expect((await elsewhere.page('/network')).document.querySelector('form[action$="/login"]')).not.toBeNull();
    const fresh = new UserAgent(netid.issuer);
    const old = await fresh.submit(await fresh.page('/network'), 'form[action$="/login"]', { identifier: person.email, password: person.password });
    expect('status' in old && old.status).toBe(401);
    expect((await signInToNetwork(new UserAgent(netid.issuer), person.email, 'a fresh long passphrase')).document.querySelector('#profile-name')).not.toBeNull();
  });

  test('deleting the profile waits until no account is connected, asks for the password, and removes everything', async () => {
    const { person, agent } = await signedInAdmin();
    const account = (await netid.context.queries.memberships.listForProfile(person.profile.id))[0]!;
    const accountToken = await accountIdToken(netid.context, agent, netid.issuer, account.account_name);
    expect(accountToken.sub).toBe(person.profile.id);

    let page = await agent.page('/network/delete');
    expect(page.document.querySelector('#remaining-accounts')?.text).toContain(account.account_name);
    expect(page.document.querySelector('form[action="/network/delete"]')).toBeNull();

    // The account keeps an administrator: the last one could not be dismissed.
    await addTestMember(netid.context, account.account_id, (await createPerson(netid.context)).profile.id, { role: 'admin', state: 'active' });
    await dismissAsOperator(netid.context, account.account_id, person.profile.id);
    page = await agent.page('/network/delete');
    page = await submitPage(agent, page, 'form[action="/network/delete"]', { password: 'wrong password here' });
    expect(alertText(page)).toContain('not your current password');
    expect(await profiles().findById(person.profile.id)).toBeDefined();

    page = await submitPage(agent, page, 'form[action="/network/delete"]', { password: person.password });
    expect(page.document.querySelector('h1')?.text).toContain('deleted');
    expect(await profiles().findById(person.profile.id)).toBeUndefined();
    const left = await netid.context.db('oidc_models').whereRaw("payload->>'accountId' = ?", [person.profile.id]).count<{ count: string }[]>({ count: '*' });
    expect(Number(left[0]!.count)).toBe(0);
    expect((await agent.page('/network')).document.querySelector('form[action$="/login"]')).not.toBeNull();
  });
});
