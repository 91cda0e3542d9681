import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { accountClientUris } from '../../src/accounts/account-address.js';
import { CommandRefused, runCommand, type Values } from '../../src/operator-commands.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { restartNetid, startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient, exchangeCode, signInThroughForms, startAuthorization } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

const noOptions = {} as Values;

interface KeySummary {
  kid: string;
  alg: string;
  state: string;
}

describe.each(backends)('an operator rotates the signing keys while accounts keep signing people in (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let person: TestPerson;
  let account: CreatedAccount;
  let redirectUri: string;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    person = await createPerson(netid.context);
    account = await createTestAccount(netid.context, person);
    redirectUri = (accountClientUris(netid.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  /** Each rotation step takes effect when a process starts, so the operator rolls NetID after it. */
  async function restart(): Promise<void> {
    netid = await restartNetid(netid);
  }

  const operator = (...positionals: string[]) => runCommand(netid.context, positionals, noOptions);

  /** The key of the algorithm accounts' clients sign their ID tokens with (ES256 by default). */
  async function accountKid(state: string): Promise<string> {
    const keys = (await operator('keys', 'list')) as KeySummary[];
    const matching = keys.filter((key) => key.alg === 'ES256' && key.state === state);
    expect(matching).toHaveLength(1);
    return matching[0]!.kid;
  }

  async function signIn() {
    const client = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    const pending = await startAuthorization(client, redirectUri, { scope: 'openid email offline_access', prompt: 'consent' });
    const callback = await signInThroughForms(new UserAgent(netid.issuer), pending.url, person.email, person.password);
    return exchangeCode(client, callback, pending);
  }

  /** What a relying party does with an ID token: check it against the JWKS it fetched from discovery. */
  async function publishedJwks(): Promise<JSONWebKeySet> {
    const client = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    const response = await fetch(client.serverMetadata().jwks_uri!);
    expect(response.status).toBe(200);
    return (await response.json()) as JSONWebKeySet;
  }

  function verify(idToken: string, jwks: JSONWebKeySet) {
    return jwtVerify(idToken, createLocalJWKSet(jwks), { issuer: netid.issuer, audience: account.clientId });
  }

  const kidsOf = (jwks: JSONWebKeySet) => jwks.keys.map((key) => key.kid);
  const signingKid = (idToken: string) => decodeProtectedHeader(idToken).kid;

  test('add-next, promote, retire: tokens switch keys without breaking signed-in people', async () => {
    const k1 = await accountKid('current');
    const first = await signIn();
    const t1 = first.id_token!;
    const r1 = first.refresh_token!;
    expect(r1).toBeDefined();
    expect(decodeProtectedHeader(t1)).toMatchObject({ alg: 'ES256', kid: k1 });
    await expect(verify(t1, await publishedJwks())).resolves.toBeDefined();

    // Step 1: the next key is published ahead of use so relying parties can cache it.
    const added = (await operator('keys', 'add-next')) as { added: KeySummary[] };
    expect(added.added.map((key) => key.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    const k2 = await accountKid('next');
    expect(k2).not.toBe(k1);
    await restart();
    const afterAdd = await publishedJwks();
    expect(kidsOf(afterAdd)).toEqual(expect.arrayContaining([k1, k2]));
    // Only public halves leave the server.
    for (const key of afterAdd.keys) expect(key).not.toHaveProperty('d');
    expect(signingKid((await signIn()).id_token!)).toBe(k1);

    // Step 2: the next key signs; the old one still verifies what it signed.
    expect(await operator('keys', 'promote')).toMatchObject({ promoted: true });
    expect(await accountKid('current')).toBe(k2);
    expect(await accountKid('previous')).toBe(k1);
    await restart();
    const afterPromote = await publishedJwks();
    expect(kidsOf(afterPromote)).toEqual(expect.arrayContaining([k1, k2]));
    const t2 = (await signIn()).id_token!;
    expect(decodeProtectedHeader(t2)).toMatchObject({ alg: 'ES256', kid: k2 });
    await expect(verify(t2, afterPromote)).resolves.toBeDefined();
    const { payload } = await verify(t1, afterPromote);
    expect(payload.sub).toBe(person.profile.id);

    // Step 3: the old key is withdrawn, and with it every token only it could vouch for.
    expect(await operator('keys', 'retire')).toMatchObject({ retired: 3 });
    await restart();
    const afterRetire = await publishedJwks();
    expect(kidsOf(afterRetire)).not.toContain(k1);
    expect(kidsOf(afterRetire)).toContain(k2);
    await expect(verify(t1, afterRetire)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    expect(((await operator('keys', 'list')) as KeySummary[]).find((key) => key.kid === k1)?.state).toBe('retired');

    // A refresh token is not signed by the key, so it outlives the rotation.
    const client = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    const refreshed = await oidc.refreshTokenGrant(client, r1);
    expect(refreshed.claims()!.sub).toBe(person.profile.id);
    expect(signingKid(refreshed.id_token!)).toBe(k2);
    await expect(verify(refreshed.id_token!, afterRetire)).resolves.toBeDefined();
    const userinfo = await oidc.fetchUserInfo(client, refreshed.access_token, person.profile.id);
    expect(userinfo).toMatchObject({ sub: person.profile.id, email: person.email });
  });

  test('rotation steps out of order are refused with a message that names the missing step', async () => {
    // Its own database, so the order of the other test does not matter.
    const own = await createTestDatabase(backend);
    const other = await startNetid(own.db);
    try {
      const run = (...positionals: string[]) => runCommand(other.context, positionals, noOptions);
      const before = (await run('keys', 'list')) as KeySummary[];

      const promoteFirst = run('keys', 'promote');
      await expect(promoteFirst).rejects.toBeInstanceOf(CommandRefused);
      await expect(promoteFirst).rejects.toThrow('no next key to promote: run "keys add-next" first');
      expect(await run('keys', 'list')).toEqual(before);

      await run('keys', 'add-next');
      const addTwice = run('keys', 'add-next');
      await expect(addTwice).rejects.toBeInstanceOf(CommandRefused);
      await expect(addTwice).rejects.toThrow('a next key is already published: run "keys promote" before adding another');
      expect(((await run('keys', 'list')) as KeySummary[]).filter((key) => key.state === 'next')).toHaveLength(3);

      // Promoting over a previous key that was never retired would leave old tokens unverifiable.
      await run('keys', 'promote');
      await run('keys', 'add-next');
      await expect(run('keys', 'promote')).rejects.toThrow('a previous key is still published: run "keys retire" first');
      expect(((await run('keys', 'list')) as KeySummary[]).filter((key) => key.state === 'previous')).toHaveLength(3);
    } finally {
      await other.stop();
      await own.dispose();
    }
  });
});
