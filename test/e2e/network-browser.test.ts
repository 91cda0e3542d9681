import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { launchChromium } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { expectAccessible } from '../support/accessibility.js';
import { accountStandIn } from '../support/account-stand-in.js';
import { startSmsGateway, type SmsGateway } from '../support/sms-gateway.js';

/**
 * A person walks through the network profile in headless Chromium, as the
 * seed describes it, with real SMTP and an HTTP SMS gateway on loopback. The
 * Bitrix24 accounts themselves live at https://{name}.bitrix24.test, which the
 * browser reaches through a stand-in that behaves as an account would: it
 * answers third-party-initiated login with an authorization request and shows
 * the ID token it receives.
 */
describe('a person in the browser, from sign-up to the profile pages (postgres)', () => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let mailbox: Mailbox;
  let sms: SmsGateway;
  let browser: Browser;
  let page: Page;
  const email = `walker.${Date.now()}@example.test`;
  const phone = '+442079460123';
  let password = 'a walk in the network';

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    mailbox = await startMailbox();
    sms = await startSmsGateway();
    netid = await startNetid(database.db, {
      env: { SMTP_URL: mailbox.url, SMS_GATEWAY_URL: sms.url, DEV_OUTBOX: 'false', OUTBOX_POLL_MS: '100' },
    });
    netid.context.startDelivery();
    browser = await launchChromium();
    const context = await browser.newContext({ locale: 'en-US' });
    const accounts = accountStandIn(netid);
    await context.route(/^https:\/\/[a-z0-9-]+\.bitrix24\.test\//, (route) => accounts.route(route));
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await netid?.stop();
    await mailbox?.stop();
    await sms?.stop();
    await database?.dispose();
  });

  /** Every credential field on the page says what it holds, for password managers and assistive technology. */
  async function expectCredentialFieldsDescribed(): Promise<void> {
    const fields = await page.locator('input[type=password], input[name=code], input[name=identifier]:not([type=hidden])').evaluateAll((inputs) =>
      inputs.map((input) => ({ name: input.getAttribute('name'), autocomplete: input.getAttribute('autocomplete'), label: (input as HTMLInputElement).labels?.[0]?.textContent ?? '' })),
    );
    for (const field of fields) {
      // The sign-in form's identifier also offers passkeys in its autofill (WebAuthn conditional mediation).
      expect(['username', 'username webauthn', 'current-password', 'new-password', 'one-time-code']).toContain(field.autocomplete);
      expect(field.label.trim()).not.toBe('');
    }
  }

  const notice = () => page.getByRole('status').first().textContent();

  test('signs up, confirms the email, edits, uploads, creates, renames, connects a phone, signs in with it, changes and recovers the password', async () => {
    // Sign up: "Create for free".
    await page.goto(`${netid.issuer}/network/sign-up`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Create your Bitrix24 Network profile');
    await expectAccessible(page);
    await expectCredentialFieldsDescribed();
    await page.getByLabel('First name').fill('Wanda');
    await page.getByLabel('Last name').fill('Walker');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('password');
    await page.getByRole('button', { name: 'Create for free' }).click();
    // A common password is refused with its reason; the other fields are kept.
    await expect(page.locator('#password-error').textContent()).resolves.toContain('most common');
    await expect(page.getByLabel('Email').inputValue()).resolves.toBe(email);
    await expectAccessible(page);
    await page.getByLabel('Password').fill(password);
    await page.keyboard.press('Enter');

    // The first sign-in confirms the email with a code sent over SMTP.
    await page.getByLabel('Code', { exact: true }).waitFor();
    await expectCredentialFieldsDescribed();
    await page.getByLabel('Code', { exact: true }).fill('000000');
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await expect(page.getByRole('alert').first().textContent()).resolves.toMatch(/not right|expired/);
    await expectAccessible(page);
    await page.getByLabel('Code', { exact: true }).fill(await mailbox.codeFor(email));
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();

    // My Network: the new account, with the profile as its administrator.
    await page.waitForURL(`${netid.issuer}/network`);
    await expect(page.locator('#profile-name').textContent()).resolves.toBe('Wanda Walker');
    const first = (await page.locator('.account-name').first().textContent())!;
    expect(first).toMatch(/^b24-[a-z0-9]{8}$/);
    await expect(page.locator('.account').first().textContent()).resolves.toContain('Administrator');
    await expectAccessible(page);

    // Edit profile, with "Update user account information on all connected Bitrix24 accounts".
    await page.getByRole('link', { name: 'Edit profile' }).first().click();
    await page.getByLabel('First name').fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.locator('#first_name-error').textContent()).resolves.toContain('Enter your first name');
    await expect(page.getByLabel('Last name').inputValue()).resolves.toBe('Walker');
    await expectAccessible(page);
    await page.getByLabel('First name').fill('Wendy');
    await page.getByLabel('Update user account information on all connected Bitrix24 accounts').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(notice()).resolves.toContain('every connected Bitrix24 account');

    // A photo: a text file is refused, a PNG is resized and shown.
    await page.getByLabel('Choose a photo').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
    await page.getByRole('button', { name: 'Upload photo' }).click();
    await expect(page.locator('#photo-error').textContent()).resolves.toMatch(/not a JPEG|could not be read/);
    await expectAccessible(page);
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#c03030' } }).png().toBuffer();
    await page.getByLabel('Choose a photo').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png });
    await page.getByRole('button', { name: 'Upload photo' }).click();
    await expect(notice()).resolves.toContain('new photo');
    await expect(page.locator('img.avatar').evaluate((img) => (img as HTMLImageElement).naturalWidth)).resolves.toBe(100);

    // Another account, then rename it: once.
    await page.getByRole('link', { name: 'My Network' }).click();
    await page.getByRole('button', { name: 'Create a new Bitrix24 account' }).click();
    await expect(notice()).resolves.toContain('new Bitrix24 account is ready');
    const names = await page.locator('.account-name').allTextContents();
    expect(names).toHaveLength(2);
    const second = names.find((n) => n !== first)!;
    await page.getByRole('link', { name: `Rename ${second}` }).click();
    await page.getByLabel('New name').fill('www');
    await page.getByRole('button', { name: 'Rename' }).click();
    await expect(page.locator('#name-error').textContent()).resolves.toContain('reserved');
    await expectAccessible(page);
    const chosen = `walkers-${Date.now().toString(36)}`;
    await page.getByLabel('New name').fill(chosen);
    await page.getByRole('button', { name: 'Rename' }).click();
    await expect(notice()).resolves.toContain('new name');
    await expect(page.locator('.account-name').allTextContents()).resolves.toContain(chosen);
    await expect(page.getByRole('link', { name: `Rename ${chosen}` }).count()).resolves.toBe(0);
    await page.goto(`${netid.issuer}/network/accounts/${chosen}/rename`);
    await expect(page.getByRole('alert').first().textContent()).resolves.toContain('renamed only once');
    await expectAccessible(page);

    // One click into the renamed account: third-party-initiated login, answered by the network session.
    await page.goto(`${netid.issuer}/network`);
    await page.getByRole('link', { name: `Open ${chosen}` }).click();
    await page.waitForURL(`https://${chosen}.bitrix24.test/oauth/netid/callback**`);
    const claims = JSON.parse((await page.locator('#claims').textContent())!);
    expect(claims).toMatchObject({ given_name: 'Wendy', family_name: 'Walker', email, email_verified: true, membership: { account: chosen, role: 'admin' } });
    expect(claims.picture).toMatch(new RegExp(`^${netid.issuer}/photos/`));

    // Connect a phone, confirmed by SMS, without copying it into the accounts.
    await page.goto(`${netid.issuer}/network/phone`);
    await page.getByLabel('Phone number').fill('+44 20 7946 0123');
    await page.getByLabel('Also update Mobile phone in all my Bitrix24 accounts').uncheck();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Send a confirmation code' }).click();
    await page.getByLabel('Code', { exact: true }).fill(await sms.codeFor(phone));
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await expect(notice()).resolves.toContain('phone number is confirmed');
    await expectAccessible(page);
    expect(sms.received[0]?.contentType).toContain('application/json');

    // Sign out everywhere, then sign in with the phone in another format.
    await page.getByRole('link', { name: 'Sign out' }).click();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('signed out');
    await expectAccessible(page);
    await page.goto(`${netid.issuer}/network`);
    await expectCredentialFieldsDescribed();
    await page.getByLabel('Email or phone number').fill('+44 (0)20 7946 0123');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${netid.issuer}/network`);
    await expect(page.locator('#profile-name').textContent()).resolves.toBe('Wendy Walker');

    // Change the password: the current one first.
    await page.getByRole('link', { name: 'Password' }).click();
    await expectCredentialFieldsDescribed();
    await page.getByLabel('Current password').fill('not the password');
    await page.getByLabel('New password').fill('another long walk home');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.locator('#current-error').textContent()).resolves.toContain('not your current password');
    await expectAccessible(page);
    await page.getByLabel('Current password').fill(password);
    await page.getByLabel('New password').fill('another long walk home');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(notice()).resolves.toContain('password is changed');
    password = 'another long walk home';

    // Forgot password: a code by email, a new password, and every session ends.
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.goto(`${netid.issuer}/network`);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await expectCredentialFieldsDescribed();
    await expectAccessible(page);
    const mailsBefore = mailbox.messages.length;
    await page.getByLabel('Email or phone number').fill(email);
    await page.getByRole('button', { name: 'Send a code' }).click();
    await page.getByLabel('Code', { exact: true }).fill(await mailbox.codeFor(email, mailsBefore));
    await page.getByLabel('New password').fill('recovered at last again');
    await expectCredentialFieldsDescribed();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('Sign in with the new password');
    await expectAccessible(page);
    await page.getByLabel('Password').fill('recovered at last again');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${netid.issuer}/network`);

    // Deletion is not offered while accounts remain, and says which.
    await page.goto(`${netid.issuer}/network/delete`);
    await expect(page.locator('#remaining-accounts').textContent()).resolves.toContain(chosen);
    await expect(page.getByRole('button', { name: 'Delete my profile' }).count()).resolves.toBe(0);
    await expectAccessible(page);
  });

  test('every page can be used from the keyboard: the skip link leads to the content', async () => {
    await page.goto(`${netid.issuer}/network/profile`);
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    await expect(skip.evaluate((link) => link === document.activeElement)).resolves.toBe(true);
    await page.keyboard.press('Enter');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('main');
  });
});
