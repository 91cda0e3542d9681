import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { alertText } from '../support/network.js';
import { isPage, UserAgent } from '../support/user-agent.js';

/**
 * A NUL byte (or another control character) anywhere a request can carry one:
 * PostgreSQL refuses U+0000 in text and jsonb, so each of these used to end
 * in a 500. Now a relying party's back end gets a JSON invalid_request, a
 * browser an error page, and a person a form that says what is wrong.
 */
describe.each(backends)('control characters in requests (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let person: TestPerson;
  let account: CreatedAccount;
  let redirectUri: string;
  let basic: string;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    person = await createPerson(netid.context);
    account = await createTestAccount(netid.context, person);
    redirectUri = (accountClientUris(netid.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;
    basic = `Basic ${Buffer.from(`${encodeURIComponent(account.clientId)}:${encodeURIComponent(account.clientSecret)}`).toString('base64')}`;
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  const authorization = (extra: Record<string, string>) =>
    `/auth?${new URLSearchParams({
      client_id: account.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      ...extra,
    }).toString()}`;

  test.each<[string, () => string]>([
    ['client_id at /auth', () => '/auth?client_id=%00&response_type=code&scope=openid'],
    ['client_id at /session/end', () => '/session/end?client_id=%00'],
    ...['state', 'nonce', 'login_hint', 'ui_locales', 'acr_values', 'claims_locales', 'dpop_jkt'].map(
      (name): [string, () => string] => [`${name} at /auth`, () => authorization({ [name]: 'a\u0000b' })],
    ),
    ['a path segment of a page', () => '/network/accounts/a%00b/rename'],
    ['a photo id', () => '/photos/a%00b'],
    ['a bell in the query of a page', () => '/network/sign-in?return=%07'],
  ])('%s: a 400 page that names invalid_request where a protocol request was meant', async (_case, pathOf) => {
    const path = pathOf();
    const response = await fetch(`${netid.issuer}${path}`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    if (path.startsWith('/auth') || path.startsWith('/session')) expect(html).toContain('invalid_request');
    else expect(html).toContain('characters no NetID page uses');
  });

  test.each([
    ['client_id at /token', '/token', 'grant_type=client_credentials&client_id=%00', false],
    ['a refresh token at /token', '/token', 'grant_type=refresh_token&refresh_token=a%00b', true],
    ['a code at /token', '/token', `grant_type=authorization_code&code=a%00b&redirect_uri=${encodeURIComponent('https://x.example/')}`, true],
    ['the token at revocation', '/token/revocation', 'token=a%00b', true],
    ['the token at introspection', '/token/introspection', 'token=a%00b', true],
    ['a raw NUL byte in the body', '/token', 'grant_type=client_credentials&scope=a\u0000b', true],
    ['state at a pushed authorization request', '/request', 'response_type=code&scope=openid&redirect_uri={redirect_uri}&state=%00', true],
  ])('%s: a JSON invalid_request', async (_case, path, template, authenticated) => {
    const body = template.replace('{redirect_uri}', encodeURIComponent(redirectUri));
    const response = await fetch(`${netid.issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...(authenticated ? { authorization: basic } : {}) },
      body,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
  });

  test.each([
    ['the sign-in form', 'form[action$="/login"]', { identifier: 'a\u0000b@netid.test', password: 'anything at all' }, 'Enter an email address or a phone number'],
  ])('%s re-renders with a message', async (_case, selector, fields, message) => {
    const agent = new UserAgent(netid.issuer);
    const form = await agent.page('/network');
    const result = await agent.submit(form, selector, fields);
    if (!isPage(result)) throw new Error('left NetID');
    expect(result.status).toBe(400);
    expect(alertText(result)).toContain(message);
  });

  test('the recovery form re-renders with a message', async () => {
    const agent = new UserAgent(netid.issuer);
    const login = await agent.page('/network');
    const recover = await agent.page(login.document.querySelector('a[href$="/recover"]')!.getAttribute('href')!);
    const result = await agent.submit(recover, 'form[action$="/recover"]', { identifier: 'a\u0000b@netid.test' });
    if (!isPage(result)) throw new Error('left NetID');
    expect(result.status).toBe(400);
    expect(alertText(result)).toContain('Enter an email address or a phone number');
  });

  test('a sign-in form too long to read goes back to the sign-in screen, which says so', async () => {
    const agent = new UserAgent(netid.issuer);
    const form = await agent.page('/network');
    const result = await agent.submit(form, 'form[action$="/login"]', { identifier: 'i'.repeat(40_000), password: 'p'.repeat(40_000) });
    if (!isPage(result)) throw new Error('left NetID');
    expect(result.url).toMatch(/\/interaction\/[^/?]+\?problem=problem\.form_too_large$/);
    expect(alertText(result)).toContain('too long to read');
    expect(result.document.querySelector('form[action$="/login"]')).not.toBeNull();
  });
});
