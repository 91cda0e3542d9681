import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { expectAccessible } from '../support/accessibility.js';
import { accountStandIn } from '../support/account-stand-in.js';
import { launchChromium } from '../support/browser.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient, exchangeCode, startAuthorization } from '../support/relying-party.js';
import { isPage, UserAgent } from '../support/user-agent.js';

/** The parameters of a GET request's URL, as a relying party would post them in a form instead. */
const formOf = (url: URL) => Object.fromEntries(url.searchParams);

describe.each(backends)('authorization and end-session requests sent with POST (OpenID Connect Core 3.1.2.1, RP-Initiated Logout 2) (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let person: TestPerson;
  let account: CreatedAccount;
  let client: oidc.Configuration;
  let redirectUri: string;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    person = await createPerson(netid.context);
    account = await createTestAccount(netid.context, person);
    client = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    redirectUri = (accountClientUris(netid.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  test('a POSTed authorization request signs the person in and ends with a code that openid-client exchanges', async () => {
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri, { scope: 'openid profile email' });
    const posted = await fetch(`${netid.issuer}/auth`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(formOf(pending.url)).toString(),
    });
    // Turned into the same request as a GET on NetID's own origin, which carries the session cookie.
    expect(posted.status).toBe(303);
    const location = new URL(posted.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(`${netid.issuer}/auth`);
    expect(formOf(location)).toEqual(formOf(pending.url));

    const login = await agent.page(location.toString());
    const callback = await agent.submit(login, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    expect(isPage(callback)).toBe(false);
    const tokens = await exchangeCode(client, (callback as { location: URL }).location, pending);
    expect(tokens.claims()).toMatchObject({ sub: person.profile.id, aud: account.clientId });

    // A second POSTed request in the same browser is answered from the network session (SSO).
    const again = await startAuthorization(client, redirectUri, { scope: 'openid' });
    const sso = await agent.redirect(`${netid.issuer}/auth`, { form: formOf(again.url) });
    expect(sso.searchParams.get('code')).toBeTruthy();
    expect((await exchangeCode(client, sso, again)).claims()?.sub).toBe(person.profile.id);

    // And a POSTed end-session request, as a relying party's logout form sends it, asks for confirmation.
    const logoutUrl = oidc.buildEndSessionUrl(client, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `https://${account.account.name}.bitrix24.test/` });
    const confirmation = await agent.page(`${netid.issuer}/session/end`, { form: formOf(logoutUrl) });
    expect(confirmation.status).toBe(200);
    const done = await agent.submit(confirmation, 'form', { logout: 'yes' });
    expect(isPage(done) ? done.url : done.location.toString()).toBe(`https://${account.account.name}.bitrix24.test/`);
    // Signed out: the next request shows the sign-in form again.
    const afterwards = await startAuthorization(client, redirectUri);
    const page = await agent.page(afterwards.url.toString());
    expect(page.document.querySelector('form[action$="/login"]')).not.toBeNull();
  });

  test('a POST that is not form-encoded, or holds a control character, is refused with an error page', async () => {
    const json = await fetch(`${netid.issuer}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/html' },
      body: JSON.stringify({ client_id: account.clientId }),
    });
    expect(json.status).toBe(400);
    expect(await json.text()).toContain('invalid_request');
    const control = await fetch(`${netid.issuer}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: `client_id=${account.clientId}&state=a%00b`,
    });
    expect(control.status).toBe(400);
    expect(await control.text()).toContain('invalid_request');
  });
});

describe('a relying party page with an HTML form that posts to NetID, in Chromium (postgres)', () => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let person: TestPerson;
  let account: CreatedAccount;
  let browser: Browser;
  let page: Page;
  let stand: ReturnType<typeof accountStandIn>;
  let form = '';

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    netid = await startNetid(database.db);
    person = await createPerson(netid.context);
    account = await createTestAccount(netid.context, person);
    stand = accountStandIn(netid, {
      '/form': (name) =>
        `<!DOCTYPE html><html lang="en"><title>${name}</title><main><h1>${name}</h1>${form}</main></html>`,
    });
    browser = await launchChromium();
    const context = await browser.newContext({ locale: 'en-US' });
    await context.route(/^https:\/\/[a-z0-9-]+\.bitrix24\.test\//, (route) => stand.route(route));
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await netid?.stop();
    await database?.dispose();
  });

  /** A form on the account's own site (another site than NetID's) holding these parameters. */
  function setForm(action: string, params: Record<string, string>, button: string): void {
    const inputs = Object.entries(params)
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${value.replaceAll('"', '&quot;')}">`)
      .join('');
    form = `<form method="post" action="${action}">${inputs}<button type="submit">${button}</button></form>`;
  }

  test('the cross-site POST reaches the existing NetID session: no second sign-in, and the sign-out form works too', async () => {
    const accountSite = `https://${account.account.name}.bitrix24.test`;
    // Sign in to the network profile first: NetID's session cookie is SameSite=Lax.
    await page.goto(`${netid.issuer}/network`);
    await page.getByLabel('Email or phone number').fill(person.email);
    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${netid.issuer}/network`);

    const request = await stand.authorizationRequest(account.account.name);
    setForm(`${netid.issuer}/auth`, formOf(request), 'Sign in with Bitrix24 Network');
    await page.goto(`${accountSite}/form`);
    await page.getByRole('button', { name: 'Sign in with Bitrix24 Network' }).click();
    await page.waitForURL(`${accountSite}/oauth/netid/callback**`);
    const claims = JSON.parse((await page.locator('#claims').textContent())!);
    expect(claims).toMatchObject({ sub: person.profile.id, membership: { account: account.account.name, role: 'admin', state: 'active' } });

    const idToken = (await page.locator('#id-token').textContent())!;
    setForm(`${netid.issuer}/session/end`, { id_token_hint: idToken, post_logout_redirect_uri: `${accountSite}/` }, 'Sign out of Bitrix24 Network');
    await page.goto(`${accountSite}/form`);
    await page.getByRole('button', { name: 'Sign out of Bitrix24 Network' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).waitFor();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${accountSite}/`);
    await page.goto(`${netid.issuer}/network`);
    await page.getByLabel('Email or phone number').waitFor();
  });
});
