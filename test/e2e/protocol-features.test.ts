import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { startBackchannelReceiver } from '../support/backchannel-receiver.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, createTestClient, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient, exchangeCode, signInThroughForms, startAuthorization } from '../support/relying-party.js';
import { isPage, UserAgent, type Page } from '../support/user-agent.js';

const callbackOf = (account: CreatedAccount) => `https://${account.account.name}.bitrix24.test/oauth/netid/callback`;

describe.each(backends)('protocol features a relying party relies on (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let admin: TestPerson;
  let account: CreatedAccount;
  let client: oidc.Configuration;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    // The back-channel logout test's receiver listens on loopback, which oidc-provider refuses to reach unless told otherwise.
    netid = await startNetid(database.db, { env: { OUTGOING_PRIVATE_NETWORKS: 'allow' } });
    admin = await createPerson(netid.context);
    account = await createTestAccount(netid.context, admin);
    client = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  test('discovery and JWKS advertise what relying parties need, and only public keys', async () => {
    const metadata = (await (await fetch(`${netid.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: netid.issuer,
      response_types_supported: ['code', 'none'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      backchannel_logout_supported: true,
    });
    for (const endpoint of ['pushed_authorization_request_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'end_session_endpoint']) {
      expect(metadata[endpoint]).toEqual(expect.stringMatching(new RegExp(`^${netid.issuer}/`)));
    }
    expect(metadata.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256']));
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'client_credentials']));

    const { keys } = (await (await fetch(String(metadata.jwks_uri))).json()) as { keys: Record<string, unknown>[] };
    expect(new Set(keys.map((key) => key.alg))).toEqual(new Set(['RS256', 'ES256', 'EdDSA']));
    for (const key of keys) {
      expect(typeof key.kid).toBe('string');
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(secret);
    }
  });

  test("a service client gets a token by client_credentials; an account's client too, for its back end, never with the operator scope", async () => {
    const service = await createTestClient(netid.context, { name: 'Reporting service', grantTypes: ['client_credentials'] });
    const serviceClient = await discoverAsClient(netid.issuer, service.clientId, service.clientSecret);
    const tokens = await oidc.clientCredentialsGrant(serviceClient);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.id_token).toBeUndefined();
    expect(await oidc.tokenIntrospection(serviceClient, tokens.access_token)).toMatchObject({
      active: true,
      client_id: service.clientId,
    });

    // The account's back end calls the management API for its own account with these (src/accounts/account-service.ts);
    // asking for more than an account's scope there gets an account's scope only.
    const backEnd = await oidc.clientCredentialsGrant(client, { resource: `${netid.issuer}/api`, scope: 'account:admin operator' });
    expect(decodeJwt(backEnd.access_token)).toMatchObject({ client_id: account.clientId, aud: `${netid.issuer}/api`, scope: 'account:admin' });
    const web = await createTestClient(netid.context, { name: 'Web app', redirectUris: ['https://web.example.test/cb'] });
    const webClient = await discoverAsClient(netid.issuer, web.clientId, web.clientSecret);
    await expect(oidc.clientCredentialsGrant(webClient)).rejects.toMatchObject({ error: 'unauthorized_client' });
  });

  test("one account cannot introspect another account's token, but introspects its own", async () => {
    const other = await createTestAccount(netid.context, admin);
    const otherClient = await discoverAsClient(netid.issuer, other.clientId, other.clientSecret);
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, callbackOf(account));
    const tokens = await exchangeCode(client, await signInThroughForms(agent, pending.url, admin.email, admin.password), pending);
    const next = await startAuthorization(otherClient, callbackOf(other));
    const otherTokens = await exchangeCode(otherClient, await agent.redirect(next.url.toString()), next);

    expect(await oidc.tokenIntrospection(client, otherTokens.access_token)).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(client, tokens.access_token)).toMatchObject({ active: true, client_id: account.clientId });
    // The token is still good: the refusal above was about who asked, not about the token.
    expect(await oidc.tokenIntrospection(otherClient, otherTokens.access_token)).toMatchObject({ active: true });
  });

  test("a program's endpoint answers its errors in JSON even to a client that asks for HTML", async () => {
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(account.clientId)}:${encodeURIComponent(account.clientSecret)}`).toString('base64')}`;
    const asked = { accept: 'text/html,application/xhtml+xml', authorization: basic, 'content-type': 'application/x-www-form-urlencoded' };
    const answers = [
      await fetch(`${netid.issuer}/token`, {
        method: 'POST',
        headers: asked,
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'never-issued' }),
      }),
      await fetch(`${netid.issuer}/token/introspection`, { method: 'POST', headers: asked, body: new URLSearchParams({}) }),
      await fetch(`${netid.issuer}/me`, { headers: { accept: 'text/html', authorization: 'Bearer never-issued' } }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([400, 400, 401]);
    for (const answer of answers) expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await Promise.all(answers.map(async (answer) => ((await answer.json()) as { error: string }).error))).toEqual([
      'invalid_grant',
      'invalid_request',
      'invalid_token',
    ]);
  });

  test('a public client must use PKCE with S256', async () => {
    const redirectUri = 'https://desk.netid.test/callback';
    const app = await createTestClient(netid.context, { name: 'Desk app', isPublic: true, firstParty: true, redirectUris: [redirectUri] });
    expect(app.clientSecret).toBeUndefined();
    const appClient = await discoverAsClient(netid.issuer, app.clientId);
    const agent = new UserAgent(netid.issuer);

    const bare = oidc.buildAuthorizationUrl(appClient, { redirect_uri: redirectUri, scope: 'openid', state: 'no-pkce' });
    const refused = await agent.redirect(bare.toString());
    expect(refused.searchParams.get('error')).toBe('invalid_request');
    expect(refused.searchParams.get('error_description')).toMatch(/requires PKCE/);
    expect(refused.searchParams.get('state')).toBe('no-pkce');
    expect(refused.searchParams.get('code')).toBeNull();

    const verifier = oidc.randomPKCECodeVerifier();
    const plain = oidc.buildAuthorizationUrl(appClient, {
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: verifier,
      code_challenge_method: 'plain',
    });
    const plainRefused = await agent.redirect(plain.toString());
    expect(plainRefused.searchParams.get('error')).toBe('invalid_request');
    expect(plainRefused.searchParams.get('error_description')).toMatch(/code_challenge_method/);

    const pending = await startAuthorization(appClient, redirectUri, { scope: 'openid profile' });
    const tokens = await exchangeCode(appClient, await signInThroughForms(agent, pending.url, admin.email, admin.password), pending);
    expect(tokens.claims()).toMatchObject({ sub: admin.profile.id, aud: app.clientId });
  });

  test('a pushed authorization request signs the person in and yields a code', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const pending = {
      verifier,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
    };
    const url = await oidc.buildAuthorizationUrlWithPAR(client, {
      redirect_uri: callbackOf(account),
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    // The browser carries only a reference; the request itself went over the back channel.
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(url.searchParams.get('redirect_uri')).toBeNull();

    const callback = await signInThroughForms(new UserAgent(netid.issuer), url, admin.email, admin.password);
    const tokens = await exchangeCode(client, callback, { url, ...pending });
    expect(tokens.claims()).toMatchObject({ sub: admin.profile.id, aud: account.clientId });
  });

  test('a DPoP-bound access token works at userinfo only with its proof', async () => {
    const dpop = oidc.getDPoPHandle(client, await oidc.randomDPoPKeyPair('ES256'));
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, callbackOf(account));
    const callback = await signInThroughForms(agent, pending.url, admin.email, admin.password);
    const tokens = await oidc.authorizationCodeGrant(
      client,
      callback,
      { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true },
      undefined,
      { DPoP: dpop },
    );
    // openid-client lower-cases token_type; NetID answered "DPoP".
    expect(tokens.token_type).toBe('dpop');

    const userinfo = await oidc.fetchUserInfo(client, tokens.access_token, admin.profile.id, { DPoP: dpop });
    expect(userinfo.sub).toBe(admin.profile.id);

    await expect(oidc.fetchUserInfo(client, tokens.access_token, admin.profile.id)).rejects.toMatchObject({
      status: 401,
      cause: [expect.objectContaining({ parameters: expect.objectContaining({ error: 'invalid_token' }) })],
    });
  });

  test('RP-initiated logout sends a verifiable logout token to the back-channel endpoint', async () => {
    // Reachable on loopback because this NetID runs with OUTGOING_PRIVATE_NETWORKS=allow (see beforeAll);
    // test/integration/outgoing-fetch.test.ts shows the default refusing it in a real process.
    const receiver = await startBackchannelReceiver();
    try {
      const redirectUri = 'https://intranet.netid.test/callback';
      const intranet = await createTestClient(netid.context, {
        name: 'Intranet',
        firstParty: true,
        redirectUris: [redirectUri],
        postLogoutRedirectUris: ['https://intranet.netid.test/'],
        backchannelLogoutUri: receiver.url,
        extra: { backchannel_logout_session_required: true },
      });
      const intranetClient = await discoverAsClient(netid.issuer, intranet.clientId, intranet.clientSecret);
      const agent = new UserAgent(netid.issuer);
      const pending = await startAuthorization(intranetClient, redirectUri);
      const tokens = await exchangeCode(intranetClient, await signInThroughForms(agent, pending.url, admin.email, admin.password), pending);
      expect(receiver.deliveries).toHaveLength(0);

      const logout = oidc.buildEndSessionUrl(intranetClient, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: 'https://intranet.netid.test/',
      });
      const confirm = await agent.page(logout.toString());
      const signedOut = await agent.submit(confirm, 'form#op\\.logoutForm', { logout: 'yes' });
      expect(isPage(signedOut)).toBe(false);

      const delivery = await receiver.next();
      expect(delivery.contentType).toBe('application/x-www-form-urlencoded');
      const logoutToken = delivery.form.get('logout_token');
      expect(logoutToken).toEqual(expect.any(String));

      const jwks = createRemoteJWKSet(new URL(intranetClient.serverMetadata().jwks_uri!));
      const { payload, protectedHeader } = await jwtVerify(logoutToken!, jwks, {
        issuer: netid.issuer,
        audience: intranet.clientId,
        typ: 'logout+jwt',
      });
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload).toMatchObject({
        sub: admin.profile.id,
        sid: tokens.claims()!.sid,
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      });
      expect(typeof payload.jti).toBe('string');
      expect(payload).not.toHaveProperty('nonce');
    } finally {
      await receiver.stop();
    }
  });

  describe('consent', () => {
    const redirectUri = 'https://calendar.example.test/callback';
    let thirdParty: oidc.Configuration;

    beforeAll(async () => {
      const registered = await createTestClient(netid.context, { name: 'Calendar Sync', redirectUris: [redirectUri] });
      thirdParty = await discoverAsClient(netid.issuer, registered.clientId, registered.clientSecret);
    });

    const consentPage = (result: Awaited<ReturnType<UserAgent['request']>>): Page => {
      if (!isPage(result)) throw new Error(`expected a consent page, was sent to ${result.location.toString()}`);
      return result;
    };

    test('a third-party client needs consent: Deny returns access_denied, Allow is remembered', async () => {
      const agent = new UserAgent(netid.issuer);
      const denied = await startAuthorization(thirdParty, redirectUri, { scope: 'openid profile email' });
      const login = await agent.page(denied.url.toString());
      const page = consentPage(await agent.submit(login, 'form[action$="/login"]', { identifier: admin.email, password: admin.password }));
      expect(page.document.querySelector('h1')?.text).toBe('Calendar Sync asks for access');
      expect(page.document.querySelectorAll('ul.scopes li').map((item) => item.text.trim())).toEqual([
        'Know who you are in the Bitrix24 Network',
        'See your name and photo',
        'See your email address',
      ]);

      const refusal = await agent.submit(page, 'form[action$="/consent"]', { decision: 'deny' });
      if (isPage(refusal)) throw new Error('expected a redirect to the client');
      expect(refusal.location.searchParams.get('error')).toBe('access_denied');
      await expect(exchangeCode(thirdParty, refusal.location, denied)).rejects.toMatchObject({ error: 'access_denied' });

      // Denying granted nothing: the next request in the same session asks again.
      const allowed = await startAuthorization(thirdParty, redirectUri, { scope: 'openid profile email' });
      const again = consentPage(await agent.request(allowed.url.toString()));
      const approval = await agent.submit(again, 'form[action$="/consent"]', { decision: 'allow' });
      if (isPage(approval)) throw new Error(`expected a redirect to the client, got ${approval.status}`);
      const tokens = await exchangeCode(thirdParty, approval.location, allowed);
      expect(tokens.claims()).toMatchObject({ sub: admin.profile.id, email: admin.email });

      const remembered = await startAuthorization(thirdParty, redirectUri, { scope: 'openid profile email' });
      const silent = await exchangeCode(thirdParty, await agent.redirect(remembered.url.toString()), remembered);
      expect(silent.claims()!.sub).toBe(admin.profile.id);
    });

    test('an account client is never shown a consent page, not for prompt=consent nor with max_age', async () => {
      const agent = new UserAgent(netid.issuer);
      const first = await startAuthorization(client, callbackOf(account), { prompt: 'consent', max_age: '300' });
      const firstTokens = await exchangeCode(client, await signInThroughForms(agent, first.url, admin.email, admin.password), first);
      expect(typeof firstTokens.claims()!.auth_time).toBe('number');

      const variants: Record<string, string>[] = [{ prompt: 'consent' }, { max_age: '300' }, { prompt: 'consent', scope: 'openid profile email phone membership' }];
      for (const params of variants) {
        const pending = await startAuthorization(client, callbackOf(account), params);
        const answer = await agent.request(pending.url.toString());
        if (isPage(answer)) throw new Error(`expected a code for ${JSON.stringify(params)}, got a page: ${answer.html.slice(0, 500)}`);
        const tokens = await exchangeCode(client, answer.location, pending);
        expect(tokens.claims()).toMatchObject({ sub: admin.profile.id, auth_time: firstTokens.claims()!.auth_time });
      }
    });
  });
});
