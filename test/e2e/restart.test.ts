import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { accountClientUris } from '../../src/accounts/account-address.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { restartNetid, startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient, exchangeCode, signInThroughForms, startAuthorization } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

describe.each(backends)('people stay signed in across a NetID restart (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let person: TestPerson;
  let account: CreatedAccount;
  let redirectUri: string;

  beforeAll(async () => {
    // On disk, so that closing the database and opening it again is what a new process would see.
    database = await createTestDatabase(backend, { onDisk: true });
    netid = await startNetid(database.db);
    person = await createPerson(netid.context, { firstName: 'Rhea', lastName: 'Restart' });
    account = await createTestAccount(netid.context, person);
    redirectUri = (accountClientUris(netid.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  /** Stops the server and lets go of the database, then starts on a new connection, same port and issuer. */
  async function restartProcess(): Promise<void> {
    netid = await restartNetid(netid, () => database.reopen());
  }

  test('refresh token, access token and browser session issued before the restart all work after it', async () => {
    const agent = new UserAgent(netid.issuer);
    const before = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    const pending = await startAuthorization(before, redirectUri, {
      scope: 'openid profile email offline_access',
      prompt: 'consent',
    });
    const tokens = await exchangeCode(before, await signInThroughForms(agent, pending.url, person.email, person.password), pending);
    expect(tokens.refresh_token).toBeDefined();
    const authTime = tokens.claims()!.auth_time;

    const issuer = netid.issuer;
    await restartProcess();
    expect(netid.issuer).toBe(issuer);
    const client = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);

    const userinfo = await oidc.fetchUserInfo(client, tokens.access_token, person.profile.id);
    expect(userinfo).toMatchObject({ sub: person.profile.id, given_name: 'Rhea', email: person.email });

    const refreshed = await oidc.refreshTokenGrant(client, tokens.refresh_token!);
    expect(refreshed.claims()).toMatchObject({ sub: person.profile.id, aud: account.clientId, auth_time: authTime });
    expect(refreshed.refresh_token).toBeDefined();

    // The same browser asks silently: the session cookie from before the restart still names a live session.
    const silent = await startAuthorization(client, redirectUri, { prompt: 'none' });
    const answer = await agent.redirect(silent.url.toString());
    expect(answer.searchParams.get('error')).toBeNull();
    expect(answer.searchParams.get('code')).toEqual(expect.any(String));
    const silentTokens = await exchangeCode(client, answer, silent);
    expect(silentTokens.claims()).toMatchObject({ sub: person.profile.id, auth_time: authTime });

    // A browser without that cookie is not signed in: the session above came from the cookie, not from luck.
    const stranger = new UserAgent(netid.issuer);
    const strangerAsks = await startAuthorization(client, redirectUri, { prompt: 'none' });
    expect((await stranger.redirect(strangerAsks.url.toString())).searchParams.get('error')).toBe('login_required');
  });

  test('a refresh token rotated before the restart is still refused after it, and its reuse ends the grant', async () => {
    const agent = new UserAgent(netid.issuer);
    const client = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    const pending = await startAuthorization(client, redirectUri, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchangeCode(client, await signInThroughForms(agent, pending.url, person.email, person.password), pending);
    const rotated = await oidc.refreshTokenGrant(client, tokens.refresh_token!);
    // Past the adapter's reuse window for racing instances, so the old token is plainly spent.
    await new Promise((resolve) => setTimeout(resolve, 3100));

    await restartProcess();
    const after = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    const again = await oidc.refreshTokenGrant(after, rotated.refresh_token!);
    expect(again.claims()).toMatchObject({ sub: person.profile.id });
    await expect(oidc.refreshTokenGrant(after, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // RFC 9700 4.14.2: a spent refresh token presented again means it leaked, so the whole grant goes.
    await expect(oidc.refreshTokenGrant(after, again.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
