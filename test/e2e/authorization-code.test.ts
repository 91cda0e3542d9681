import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { accountClientUris } from '../../src/accounts/account-address.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { addTestMember, createPerson, dismissAsOperator, createTestAccount, createTestClient, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient, exchangeCode, signInThroughForms, startAuthorization } from '../support/relying-party.js';
import { isPage, UserAgent } from '../support/user-agent.js';

describe.each(backends)('an account signs a person in with authorization code + PKCE (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let admin: TestPerson;
  let account: CreatedAccount;
  let client: oidc.Configuration;
  let redirectUri: string;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    admin = await createPerson(netid.context, { firstName: 'Ada', lastName: 'Admin' });
    account = await createTestAccount(netid.context, admin);
    client = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    redirectUri = (accountClientUris(netid.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  test('the full life of a sign-in: code, ID token, userinfo, refresh, introspection, revocation, logout', async () => {
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri, {
      scope: 'openid profile email membership offline_access',
      prompt: 'consent',
    });
    const callback = await signInThroughForms(agent, pending.url, admin.email, admin.password);
    expect(callback.searchParams.get('iss')).toBe(netid.issuer);

    const tokens = await exchangeCode(client, callback, pending);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: netid.issuer,
      aud: account.clientId,
      sub: admin.profile.id,
      given_name: 'Ada',
      family_name: 'Admin',
      email: admin.email,
      email_verified: true,
      membership: { account: account.account.name, role: 'admin', state: 'active' },
      acr: 'urn:netid:acr:1fa',
      amr: ['pwd'],
    });
    expect(typeof claims.auth_time).toBe('number');
    expect(tokens.refresh_token).toBeDefined();

    const userinfo = await oidc.fetchUserInfo(client, tokens.access_token, admin.profile.id);
    expect(userinfo).toMatchObject({ sub: admin.profile.id, given_name: 'Ada', email: admin.email });

    const introspected = await oidc.tokenIntrospection(client, tokens.access_token);
    expect(introspected).toMatchObject({ active: true, sub: admin.profile.id, client_id: account.clientId });

    const refreshed = await oidc.refreshTokenGrant(client, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeDefined();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()!.sub).toBe(admin.profile.id);

    await oidc.tokenRevocation(client, refreshed.access_token);
    expect(await oidc.tokenIntrospection(client, refreshed.access_token)).toEqual({ active: false });

    // The rotated-away refresh token stops working once the reuse window for racing instances has passed.
    await new Promise((resolve) => setTimeout(resolve, 3100));
    await expect(oidc.refreshTokenGrant(client, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    const logout = oidc.buildEndSessionUrl(client, {
      id_token_hint: refreshed.id_token!,
      post_logout_redirect_uri: `https://${account.account.name}.bitrix24.test/`,
      state: 'bye',
    });
    const confirm = await agent.page(logout.toString());
    expect(confirm.html).toContain('Sign out of the Bitrix24 Network?');
    const signedOut = await agent.submit(confirm, 'form#op\\.logoutForm', { logout: 'yes' });
    expect(isPage(signedOut)).toBe(false);
    if (isPage(signedOut)) return;
    expect(signedOut.location.toString()).toBe(`https://${account.account.name}.bitrix24.test/?state=bye`);

    // The network session is over: a silent request now needs a login.
    const silent = await startAuthorization(client, redirectUri, { prompt: 'none' });
    const answer = await agent.redirect(silent.url.toString());
    await expect(exchangeCode(client, answer, silent)).rejects.toMatchObject({ error: 'login_required' });
  });

  test('an access token without offline_access lives with the network session: accepted while it lasts, refused after sign-out', async () => {
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri, { scope: 'openid profile email' });
    const tokens = await exchangeCode(client, await signInThroughForms(agent, pending.url, admin.email, admin.password), pending);

    // Twice each: the session is read along with the token every time, not kept between requests.
    for (let i = 0; i < 2; i++) {
      expect(await oidc.fetchUserInfo(client, tokens.access_token, admin.profile.id)).toMatchObject({ sub: admin.profile.id });
      expect(await oidc.tokenIntrospection(client, tokens.access_token)).toMatchObject({ active: true, sub: admin.profile.id });
    }

    const logout = oidc.buildEndSessionUrl(client, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `https://${account.account.name}.bitrix24.test/` });
    const confirm = await agent.page(logout.toString());
    await agent.submit(confirm, 'form#op\\.logoutForm', { logout: 'yes' });

    expect(await oidc.tokenIntrospection(client, tokens.access_token)).toEqual({ active: false });
    await expect(oidc.fetchUserInfo(client, tokens.access_token, admin.profile.id)).rejects.toMatchObject({ status: 401 });
  });

  test('SSO: signed in to one account, the next account asks for nothing', async () => {
    const second = await createTestAccount(netid.context, admin);
    const secondClient = await discoverAsClient(netid.issuer, second.clientId, second.clientSecret);
    const secondRedirect = `https://${second.account.name}.bitrix24.test/oauth/netid/callback`;
    const agent = new UserAgent(netid.issuer);

    const first = await startAuthorization(client, redirectUri);
    await exchangeCode(client, await signInThroughForms(agent, first.url, admin.email, admin.password), first);

    const next = await startAuthorization(secondClient, secondRedirect, { scope: 'openid membership' });
    const tokens = await exchangeCode(secondClient, await agent.redirect(next.url.toString()), next);
    expect(tokens.claims()).toMatchObject({
      sub: admin.profile.id,
      aud: second.clientId,
      membership: { account: second.account.name, role: 'admin' },
    });
  });

  test('an unregistered redirect_uri gets an error page and no redirect', async () => {
    const pending = await startAuthorization(client, 'https://attacker.example/callback');
    const response = await fetch(pending.url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    const page = await response.text();
    expect(page).toContain('redirect_uri');
    expect(page).not.toMatch(/at \w+ \(|node_modules/);
  });

  test('a code works once; a reused code gets invalid_grant', async () => {
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri);
    const callback = await signInThroughForms(agent, pending.url, admin.email, admin.password);
    await exchangeCode(client, callback, pending);
    await expect(exchangeCode(client, callback, pending)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('a refresh whose tokens cannot be stored answers server_error and uses nothing up', async () => {
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchangeCode(client, await signInThroughForms(agent, pending.url, admin.email, admin.password), pending);
    const refreshTokens = async () => Number((await database.db('oidc_models').where('model', 'RefreshToken').count({ n: '*' }))[0]!.n);
    const before = await refreshTokens();

    // The database refuses new access tokens, as a full disk or a lost connection would.
    await database.db.raw("create function refuse_access_tokens() returns trigger language plpgsql as $$ begin raise exception 'refused'; end $$");
    await database.db.raw(
      "create trigger refuse_access_tokens before insert on oidc_models for each row when (new.model = 'AccessToken') execute function refuse_access_tokens()",
    );
    try {
      const failure = (await oidc.refreshTokenGrant(client, tokens.refresh_token!).catch((error: unknown) => error)) as { cause?: Response };
      // A standard OAuth error body, never a stack trace; the status is 500 as for any server_error.
      expect(failure.cause?.status).toBe(500);
      expect(await failure.cause!.json()).toEqual({ error: 'server_error' });
    } finally {
      await database.db.raw('drop trigger refuse_access_tokens on oidc_models');
      await database.db.raw('drop function refuse_access_tokens()');
    }

    // Neither half of the refresh was kept: no new refresh token, and the one presented is not used up.
    expect(await refreshTokens()).toBe(before);
    const presented = await database.db('oidc_models').where({ model: 'RefreshToken', id: tokens.refresh_token! }).first('consumed_at');
    expect(presented).toEqual({ consumed_at: null });
    const refreshed = await oidc.refreshTokenGrant(client, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeDefined();
  });

  test('a wrong client secret gets invalid_client', async () => {
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri);
    const callback = await signInThroughForms(agent, pending.url, admin.email, admin.password);
    const impostor = await discoverAsClient(netid.issuer, account.clientId, 'not-the-secret');
    // openid-client surfaces a 401 as the WWW-Authenticate challenge that carries the error code.
    await expect(exchangeCode(impostor, callback, pending)).rejects.toMatchObject({
      status: 401,
      cause: [{ parameters: { error: 'invalid_client' } }],
    });
  });

  test('a wrong code_verifier fails with invalid_grant', async () => {
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri);
    const callback = await signInThroughForms(agent, pending.url, admin.email, admin.password);
    await expect(
      exchangeCode(client, callback, { ...pending, verifier: oidc.randomPKCECodeVerifier() }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('prompt=none without a session returns login_required to the client', async () => {
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri, { prompt: 'none' });
    const answer = await agent.redirect(pending.url.toString());
    expect(answer.searchParams.get('error')).toBe('login_required');
    expect(answer.searchParams.get('state')).toBe(pending.state);
    expect(answer.searchParams.get('iss')).toBe(netid.issuer);
  });

  test('prompt=login asks again although a session exists, and max_age=0 does too', async () => {
    const agent = new UserAgent(netid.issuer);
    const first = await startAuthorization(client, redirectUri);
    const firstTokens = await exchangeCode(client, await signInThroughForms(agent, first.url, admin.email, admin.password), first);

    for (const params of [{ prompt: 'login' }, { max_age: '0' }] as Record<string, string>[]) {
      const again = await startAuthorization(client, redirectUri, params);
      const page = await agent.page(again.url.toString());
      expect(page.document.querySelector('input[autocomplete="current-password"]')).not.toBeNull();
    }
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fresh = await startAuthorization(client, redirectUri, { max_age: '0' });
    const tokens = await exchangeCode(client, await signInThroughForms(agent, fresh.url, admin.email, admin.password), fresh);
    expect(tokens.claims()!.auth_time).toBeGreaterThan(firstTokens.claims()!.auth_time as number);
  });

  test('a wrong password and an unknown identifier get the same answer, and the form keeps the identifier', async () => {
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri);
    const login = await agent.page(pending.url.toString());
    const wrong = await agent.submit(login, 'form[action$="/login"]', { identifier: admin.email, password: 'not it' });
    const unknown = await agent.submit(login, 'form[action$="/login"]', { identifier: 'nobody@example.test', password: 'not it' });
    if (!isPage(wrong) || !isPage(unknown)) throw new Error('expected the form again');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const message = (page: typeof wrong) => page.document.querySelector('[role=alert]')?.text.trim();
    expect(message(wrong)).toBe('The email, phone number or password is not right. Check them and try again.');
    expect(message(unknown)).toBe(message(wrong));
    expect(wrong.document.querySelector('input[name=identifier]')?.getAttribute('value')).toBe(admin.email);

    const malformed = await agent.submit(login, 'form[action$="/login"]', { identifier: 'not an address', password: 'x' });
    if (!isPage(malformed)) throw new Error('expected the form again');
    expect(malformed.status).toBe(400);
    expect(malformed.document.querySelector('[role=alert]')?.text).toContain('Enter an email address or a phone number');
  });

  test('a form without its CSRF token is refused with a page', async () => {
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri);
    const login = await agent.page(pending.url.toString());
    const forged = await agent.submit(login, 'form[action$="/login"]', { identifier: admin.email, password: admin.password, csrf: 'forged' });
    expect(isPage(forged) && forged.status).toBe(403);
  });

  test('a dismissed member is refused for that account, and the account receives access_denied', async () => {
    const member = await createPerson(netid.context);
    await addTestMember(netid.context, account.account.id, member.profile.id, { role: 'user', state: 'invited' });

    const agent = new UserAgent(netid.issuer);
    const invited = await startAuthorization(client, redirectUri, { scope: 'openid membership offline_access', prompt: 'consent' });
    const tokens = await exchangeCode(client, await signInThroughForms(agent, invited.url, member.email, member.password), invited);
    // An invitation becomes an active membership at the first sign-in.
    expect(tokens.claims()!.membership).toMatchObject({ role: 'user', state: 'active' });

    await dismissAsOperator(netid.context, account.account.id, member.profile.id);
    expect(tokens.refresh_token).toBeDefined();
    // Dismissal revokes what the member was given: the refresh token no longer works.
    await expect(oidc.refreshTokenGrant(client, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    const again = await startAuthorization(client, redirectUri);
    const refusal = await agent.page(again.url.toString());
    expect(refusal.status).toBe(403);
    expect(refusal.document.querySelector('h1')?.text).toBe(`You have no access to ${account.account.name}`);
    const back = await agent.submit(refusal, 'form[action$="/abort"]');
    if (isPage(back)) throw new Error('expected a redirect to the account');
    expect(back.location.searchParams.get('error')).toBe('access_denied');
    await expect(exchangeCode(client, back.location, again)).rejects.toMatchObject({ error: 'access_denied' });

    const silent = await startAuthorization(client, redirectUri, { prompt: 'none' });
    const answer = await agent.redirect(silent.url.toString());
    expect(answer.searchParams.get('error')).toBe('access_denied');
  });
});
