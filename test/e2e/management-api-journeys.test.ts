import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { simpleParser } from 'mailparser';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { expectAccessible } from '../support/accessibility.js';
import { startBackchannelReceiver, type BackchannelReceiver } from '../support/backchannel-receiver.js';
import { launchChromium } from '../support/browser.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { addTestMember, createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { callApi, clientApiToken } from '../support/management-api.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { signInToNetwork, submitPage } from '../support/network.js';
import { discoverAsClient, exchangeCode, startAuthorization } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

describe.each(backends)('a member dismissed through the management API, end to end (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let receiver: BackchannelReceiver;
  let admin: TestPerson;
  let member: TestPerson;
  let account: CreatedAccount;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    // The account's back-channel receiver listens on loopback, which outgoing requests may reach only when told.
    netid = await startNetid(database.db, { env: { OUTGOING_PRIVATE_NETWORKS: 'allow' } });
    receiver = await startBackchannelReceiver();
    admin = await createPerson(netid.context);
    member = await createPerson(netid.context);
    account = await createTestAccount(netid.context, admin);
    await addTestMember(netid.context, account.account.id, member.profile.id);
    const stored = (await netid.context.queries.clients.findByAccount(account.account.id))!;
    await netid.context.queries.clients.updateMetadata(stored.client_id, { ...stored.metadata, backchannel_logout_uri: receiver.url });
  });

  afterAll(async () => {
    await netid?.stop();
    await receiver?.stop();
    await database?.dispose();
  });

  test("the member's refresh token stops working, the account hears of it, My Network drops it, and the profile may then be deleted", async () => {
    const config = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    const redirectUri = (accountClientUris(netid.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;
    const agent = new UserAgent(netid.issuer);
    await signInToNetwork(agent, member.email, member.password);
    const pending = await startAuthorization(config, redirectUri, { scope: 'openid offline_access', prompt: 'consent' });
    const callback = await agent.redirect(pending.url.toString());
    const signedIn = await exchangeCode(config, callback, pending);
    expect(signedIn.refresh_token).toBeDefined();
    const sid = signedIn.claims()!.sid;
    expect((await agent.page('/network')).document.querySelectorAll('.account-name').map((e) => e.text)).toContain(account.account.name);

    const token = await clientApiToken(netid, account, 'account:admin');
    const dismissed = await callApi(netid, token, 'POST', `/accounts/${account.account.id}/members/${member.profile.id}/dismissal`);
    expect(dismissed).toMatchObject({ status: 200, body: { state: 'dismissed' } });

    await expect(oidc.refreshTokenGrant(config, signedIn.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const delivery = await receiver.next();
    const { payload } = await jwtVerify(delivery.form.get('logout_token')!, createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!)), {
      issuer: netid.issuer,
      audience: account.clientId,
    });
    expect(payload).toMatchObject({ sub: member.profile.id, sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });

    const network = await agent.page('/network');
    expect(network.document.querySelectorAll('.account-name').map((e) => e.text)).not.toContain(account.account.name);
    const events = (await netid.context.queries.audit.list({ accountId: account.account.id, kind: 'membership.dismissed' }, { limit: 10 })).items;
    expect(events[0]).toMatchObject({ profile_id: member.profile.id, actor_kind: 'client', actor_client_id: account.clientId });

    // Dismissed from every account it was in, the profile may go.
    const deletion = await agent.page('/network/delete');
    const deleted = await submitPage(agent, deletion, 'form[action="/network/delete"]', { password: member.password });
    expect(deleted.document.querySelector('h1')?.text).toContain('deleted');
    expect(await netid.context.queries.profiles.findById(member.profile.id)).toBeUndefined();
  });
});

describe('an invitation by email to an address without a profile, in Chromium (postgres)', () => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let mailbox: Mailbox;
  let browser: Browser;
  let account: CreatedAccount;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    mailbox = await startMailbox();
    netid = await startNetid(database.db, { env: { SMTP_URL: mailbox.url, DEV_OUTBOX: 'false', OUTBOX_POLL_MS: '100' } });
    netid.context.startDelivery();
    account = await createTestAccount(netid.context, await createPerson(netid.context));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await netid?.stop();
    await mailbox?.stop();
    await database?.dispose();
  });

  test('leads through sign-up and the email confirmation to an active membership, and no account of their own', async () => {
    const email = `invited.${Date.now()}@example.test`;
    const token = await clientApiToken(netid, account, 'account:admin');
    const invited = await callApi(netid, token, 'POST', `/accounts/${account.account.id}/invitations`, { body: { address: email, role: 'user', locale: 'en' } });
    expect(invited).toMatchObject({ status: 202, body: { sent: 'sign-up-link', address: email } });

    const mail = await simpleParser((await mailbox.waitFor((m) => m.to.includes(email))).raw);
    expect(mail.subject).toContain(account.account.name);
    const link = /https?:\/\/\S+\/network\/sign-up\?invitation=[A-Za-z0-9_-]+/.exec(mail.text ?? '')![0];
    expect(link.startsWith(`${netid.issuer}/network/sign-up?invitation=`)).toBe(true);

    const page = await (await browser.newContext({ locale: 'en-US' })).newPage();
    await page.goto(link);
    await expect(page.getByLabel('Email').inputValue()).resolves.toBe(email);
    await expectAccessible(page);
    await page.getByLabel('First name').fill('Ivy');
    await page.getByLabel('Last name').fill('Invited');
    await page.getByLabel('Password').fill('an invitation well taken');
    await page.getByRole('button', { name: 'Create for free' }).click();
    await page.getByLabel('Code', { exact: true }).fill(await mailbox.codeFor(email, mailbox.messages.indexOf(mailbox.messages.find((m) => m.to.includes(email))!) + 1));
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.waitForURL(`${netid.issuer}/network`);
    await expectAccessible(page);

    // The inviting account is there, entered with one click; no account was made for the new profile.
    await expect(page.locator('.account-name').allTextContents()).resolves.toEqual([account.account.name]);
    await expect(page.getByRole('link', { name: `Open ${account.account.name}` }).count()).resolves.toBe(1);
    const profile = (await netid.context.queries.profiles.findByIdentifier(email))!;
    expect(profile.email_verified).toBe(true);
    const members = await callApi(netid, token, 'GET', `/accounts/${account.account.id}/members?state=active`);
    expect(members.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ profile_id: profile.id, role: 'user', state: 'active', first_name: 'Ivy' })]));
  });

  test('the API reference and the problems page are pages like any other: they pass axe-core', async () => {
    const page = await (await browser.newContext({ locale: 'en-US' })).newPage();
    await page.goto(`${netid.issuer}/api/v1/docs`);
    await page.locator('.opblock').first().waitFor();
    await expectAccessible(page);
    await page.locator('.opblock-summary').first().click();
    await expectAccessible(page);
    await page.goto(`${netid.issuer}/api/v1/problems`);
    await expect(page.locator('#last-admin').textContent()).resolves.toContain('last-admin');
    await expectAccessible(page);
  });
});
