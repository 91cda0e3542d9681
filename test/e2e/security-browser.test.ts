import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { expectAccessible } from '../support/accessibility.js';
import { launchChromium } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { accountStandIn } from '../support/account-stand-in.js';
import { addTestMember, createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { authenticatorApp, type AuthenticatorApp } from '../support/second-factors.js';

/**
 * A person secures their profile in headless Chromium: an authenticator app
 * (QR code and key, confirmed by a code, recovery codes shown once), signing
 * in with its codes and a recovery code, a used code refused, and a passkey
 * made with Chromium's virtual authenticator (the DevTools WebAuthn domain)
 * that signs in after the password and without one. NetID's issuer is
 * http://localhost:<port>: WebAuthn needs a domain for its relying party ID.
 */
describe('a person secures their profile in the browser (postgres)', () => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let person: TestPerson;
  let app: AuthenticatorApp;
  let recoveryCodes: string[];
  let account: CreatedAccount;
  let accounts: ReturnType<typeof accountStandIn>;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    netid = await startNetid(database.db, { issuerHost: 'localhost' });
    person = await createPerson(netid.context, { firstName: 'Sasha', lastName: 'Secure' });
    account = await createTestAccount(netid.context, person);
    browser = await launchChromium();
    context = await browser.newContext({ locale: 'en-US' });
    // The account lives at https://{name}.bitrix24.test, answered by a stand-in that signs in as the account would.
    accounts = accountStandIn(netid);
    await context.route(/^https:\/\/[a-z0-9-]+\.bitrix24\.test\//, (route) => accounts.route(route));
    page = await context.newPage();
    cdp = await context.newCDPSession(page);
  });

  afterAll(async () => {
    await browser?.close();
    await netid?.stop();
    await database?.dispose();
  });

  const notice = () => page.getByRole('status').first().textContent();

  /** Every credential field says what it holds, for password managers, autofill and assistive technology. */
  async function expectCredentialFieldsDescribed(): Promise<void> {
    const fields = await page.locator('input[type=password], input[name=code], input[name=identifier]').evaluateAll((inputs) =>
      inputs.map((input) => ({ name: input.getAttribute('name'), autocomplete: input.getAttribute('autocomplete'), label: (input as HTMLInputElement).labels?.[0]?.textContent ?? '' })),
    );
    expect(fields.length).toBeGreaterThan(0);
    for (const field of fields) {
      const expected = { identifier: 'username webauthn', code: 'one-time-code' }[field.name ?? ''] ?? expect.stringMatching(/^(current|new)-password$/);
      expect(field.autocomplete).toEqual(expected);
      expect(field.label.trim()).not.toBe('');
    }
  }

  async function signOut(): Promise<void> {
    await page.goto(`${netid.issuer}/network`);
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
  }

  async function passwordStep(): Promise<void> {
    await page.goto(`${netid.issuer}/network`);
    await page.getByLabel('Email or phone number').fill(person.email);
    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  test('sets up an authenticator app, signs in with its code and with a recovery code, and a used code is refused', async () => {
    await passwordStep();
    await page.waitForURL(`${netid.issuer}/network`);
    await page.getByRole('link', { name: 'Security' }).click();
    await expect(page.locator('#totp-state').textContent()).resolves.toContain('Off');
    await expectAccessible(page);

    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await expect(page.getByRole('img', { name: 'QR code to scan with your authenticator app' }).isVisible()).resolves.toBe(true);
    app = authenticatorApp((await page.locator('#totp-secret').textContent())!.trim());
    await expectAccessible(page);
    await expectCredentialFieldsDescribed();
    await page.getByLabel('Code shown by the app').fill('123');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expect(page.locator('#code-error').textContent()).resolves.toContain('6 digits');
    await expectAccessible(page);
    await page.getByLabel('Code shown by the app').fill(await app.nextCode());
    await page.getByRole('button', { name: 'Turn on' }).click();

    // The recovery codes, shown this once.
    recoveryCodes = (await page.locator('#recovery-codes li').allTextContents()).map((code) => code.trim());
    expect(recoveryCodes).toHaveLength(10);
    expect(recoveryCodes[0]).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    await expectAccessible(page);
    await page.getByRole('link', { name: 'I have saved them' }).click();
    await expect(page.locator('#totp-state').textContent()).resolves.toContain('On');
    await expect(page.locator('#recovery-state').textContent()).resolves.toContain('10');

    // Password, then the code.
    await signOut();
    await passwordStep();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await expectAccessible(page);
    await expectCredentialFieldsDescribed();
    await page.getByLabel('Code from your authenticator app').fill(await app.nextCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${netid.issuer}/network`);

    // The same code again: refused; a recovery code instead.
    await signOut();
    await passwordStep();
    await page.getByLabel('Code from your authenticator app').fill(await app.usedCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('alert').first().textContent()).resolves.toContain('already used');
    await expectAccessible(page);
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Use the recovery code' }).click();
    await page.waitForURL(`${netid.issuer}/network`);
    await page.goto(`${netid.issuer}/network/security`);
    await expect(page.locator('#recovery-state').textContent()).resolves.toContain('9');

    // With a second factor of their own, the admin requires two of everyone signing in to the account.
    await page.goto(`${netid.issuer}/network`);
    await page.getByRole('link', { name: `Sign-in rules of ${account.account.name}` }).click();
    await expectAccessible(page);
    await page.getByLabel('Require two-step verification of everyone who signs in to this account').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(notice()).resolves.toContain('sign-in rules are saved');
  });

  test('a member without a second factor is told how to set one up, and the account receives unmet_authentication_requirements', async () => {
    const member = await createPerson(netid.context);
    await addTestMember(netid.context, account.account.id, member.profile.id);
    const memberContext = await browser.newContext({ locale: 'en-US' });
    await memberContext.route(/^https:\/\/[a-z0-9-]+\.bitrix24\.test\//, (route) => accounts.route(route));
    const memberPage = await memberContext.newPage();
    await memberPage.goto((await accounts.authorizationRequest(account.account.name)).toString());
    await memberPage.getByLabel('Email or phone number').fill(member.email);
    await memberPage.getByLabel('Password').fill(member.password);
    await memberPage.getByRole('button', { name: 'Sign in', exact: true }).click();
    await memberPage.getByRole('heading', { name: 'Two-step verification is required' }).waitFor();
    await expect(memberPage.getByRole('link', { name: 'Open Security in your profile' }).getAttribute('href')).resolves.toBe('/network/security');
    await expectAccessible(memberPage);
    await memberPage.getByRole('button', { name: `Return to ${account.account.name}` }).click();
    await expect(memberPage.locator('#error').textContent()).resolves.toBe('unmet_authentication_requirements');
    await memberContext.close();
  });

  test('registers a passkey with a virtual authenticator and signs in with it, after the password and without one', async () => {
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    // While the person does not touch the authenticator, the sign-in form's passkey autofill waits.
    const touching = (enabled: boolean) => cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });

    await page.goto(`${netid.issuer}/network/security`);
    await page.getByLabel('Name of the passkey').fill('Test laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await expect(notice()).resolves.toContain('passkey is added');
    await expect(page.locator('.passkey-name').allTextContents()).resolves.toEqual(['Test laptop']);
    await expectAccessible(page);
    await page.getByLabel('New name for Test laptop').fill('Work laptop');
    await page.getByRole('button', { name: 'Rename' }).click();
    await expect(page.locator('.passkey-name').allTextContents()).resolves.toEqual(['Work laptop']);

    // After the password: the passkey as the second step.
    await signOut();
    await touching(false);
    await passwordStep();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await touching(true);
    await page.getByRole('button', { name: 'Use a passkey or security key' }).click();
    await page.waitForURL(`${netid.issuer}/network`);
    await expect(page.locator('#profile-name').textContent()).resolves.toBe('Sasha Secure');

    // Without the password, from the button on the sign-in form.
    await signOut();
    await touching(false);
    await page.goto(`${netid.issuer}/network`);
    await expectCredentialFieldsDescribed();
    await expectAccessible(page);
    await touching(true);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL(`${netid.issuer}/network`);
    await expect(page.locator('#profile-name').textContent()).resolves.toBe('Sasha Secure');

    // Without the password, from the identifier field's autofill (conditional mediation): the authenticator answers as the form opens.
    await signOut();
    await page.goto(`${netid.issuer}/network`);
    await page.waitForURL(`${netid.issuer}/network`);
    await expect(page.locator('#profile-name').textContent()).resolves.toBe('Sasha Secure');

    // The sessions this browser holds, with what it is.
    await page.goto(`${netid.issuer}/network/security`);
    await expect(page.locator('.session[aria-current=true] .session-device').textContent()).resolves.toMatch(/^Chrome \d+ on Linux/);
    await expectAccessible(page);
  });
});
