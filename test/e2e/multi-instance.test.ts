import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { runCommand, type Values } from '../../src/operator-commands.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient, exchangeCode, startAuthorization } from '../support/relying-party.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.js';
import { isPage, UserAgent } from '../support/user-agent.js';

interface KeySummary {
  kid: string;
  alg: string;
  state: string;
}

/**
 * Two NetID instances on one PostgreSQL database behind a round-robin load
 * balancer, as production runs them. PostgreSQL only: the embedded PGlite
 * database is one connection inside one process, so a second instance cannot
 * open it at all.
 */
describe('two NetID instances on one database behind a load balancer', () => {
  let database: TestDatabase;
  let proxy: RoundRobinProxy;
  /** Each instance has a pool of its own, as a separate process would. */
  const pools: Database[] = [];
  const instances: RunningNetid[] = [];
  let person: TestPerson;
  let account: CreatedAccount;
  let redirectUri: string;

  const start = (index: number, port?: number) =>
    // One issuer for the fleet: the balancer's address, whichever instance answers.
    startNetid(pools[index]!, { ...(port ? { port } : {}), env: { ISSUER: proxy.url } });

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    proxy = await startRoundRobinProxy();
    pools.push(database.db, await createDatabase({ databaseUrl: database.databaseUrl }));
    for (const index of [0, 1]) instances.push(await start(index));
    proxy.backends = instances.map((instance) => instance.port);
    person = await createPerson(instances[0]!.context);
    account = await createTestAccount(instances[0]!.context, person);
    redirectUri = (accountClientUris(instances[0]!.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;
  });

  afterAll(async () => {
    for (const instance of instances) await instance?.stop();
    await proxy?.close();
    await pools[1]?.destroy();
    await database?.dispose();
  });

  /** A rolling restart: each instance leaves the rotation, starts again with what the database now holds, and comes back. */
  async function rollFleet(): Promise<void> {
    for (const index of [0, 1]) {
      const port = instances[index]!.port;
      proxy.backends[index] = undefined;
      await instances[index]!.stop();
      instances[index] = await start(index, port);
      proxy.backends[index] = port;
    }
  }

  const operator = (...positionals: string[]) => runCommand(instances[0]!.context, positionals, {} as Values);

  /** The key of the algorithm accounts' clients sign their ID tokens with (ES256 by default). */
  async function accountKid(state: string): Promise<string> {
    const keys = (await operator('keys', 'list')) as KeySummary[];
    return keys.find((key) => key.alg === 'ES256' && key.state === state)!.kid;
  }

  /** Every step of the sign-in through the balancer, the refresh token kept for later. */
  async function signIn() {
    const first = proxy.served.length;
    const client = await discoverAsClient(proxy.url, account.clientId, account.clientSecret);
    const pending = await startAuthorization(client, redirectUri, { scope: 'openid email offline_access', prompt: 'consent' });
    const agent = new UserAgent(proxy.url);
    const form = await agent.page(pending.url.toString());
    const formServedBy = proxy.served.at(-1)!.backend;
    const result = await agent.submit(form, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    if (isPage(result)) throw new Error(`sign-in did not return to the relying party (${result.status}):\n${result.html.slice(0, 1500)}`);
    const postServedBy = proxy.served.find((request, index) => index >= first && request.method === 'POST')!.backend;
    const tokens = await exchangeCode(client, result.location, pending);
    return { tokens, client, steps: proxy.served.slice(first), formServedBy, postServedBy };
  }

  /** The JWKS as each instance publishes it, fetched from each directly. */
  async function jwksOfEachInstance(): Promise<JSONWebKeySet[]> {
    return Promise.all(
      instances.map(async (instance) => {
        const response = await fetch(`http://127.0.0.1:${instance.port}/jwks`);
        expect(response.status).toBe(200);
        return (await response.json()) as JSONWebKeySet;
      }),
    );
  }

  /** What a relying party does with an ID token, against whichever instance it got the JWKS from. */
  async function expectVerifiesEverywhere(idToken: string): Promise<void> {
    for (const jwks of await jwksOfEachInstance()) {
      const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks), { issuer: proxy.url, audience: account.clientId });
      expect(payload.sub).toBe(person.profile.id);
    }
  }

  const signingKid = (idToken: string) => decodeProtectedHeader(idToken).kid;

  test('a sign-in whose steps alternate between the instances completes, and its tokens work on both', async () => {
    const { tokens, client, steps, formServedBy, postServedBy } = await signIn();

    // The form was shown by one instance and its POST handled by the other: sessions, interactions,
    // cookie keys and CSRF keys all live in the shared database.
    expect(formServedBy).not.toBe(postServedBy);
    expect(new Set(steps.map((step) => step.backend))).toEqual(new Set([0, 1]));
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.backend).not.toBe(steps[i - 1]!.backend);
    expect(tokens.claims()!.sub).toBe(person.profile.id);
    await expectVerifiesEverywhere(tokens.id_token!);

    // Refresh on one instance, use the result on the other, and rotate again.
    const refreshed = await oidc.refreshTokenGrant(client, tokens.refresh_token!);
    const again = await oidc.refreshTokenGrant(client, refreshed.refresh_token!);
    expect(again.claims()!.sub).toBe(person.profile.id);
    for (let i = 0; i < 2; i++) {
      const userinfo = await oidc.fetchUserInfo(client, again.access_token, person.profile.id);
      expect(userinfo).toMatchObject({ sub: person.profile.id, email: person.email });
      const introspection = await oidc.tokenIntrospection(client, again.access_token);
      expect(introspection).toMatchObject({ active: true, sub: person.profile.id, client_id: account.clientId });
    }
  });

  test('failed sign-ins count against the same limit whichever instance sees them', async () => {
    const target = await createPerson(instances[0]!.context);
    const client = await discoverAsClient(proxy.url, account.clientId, account.clientSecret);
    const agent = new UserAgent(proxy.url);
    let page = await agent.page((await startAuthorization(client, redirectUri)).url.toString());
    const statuses: { status: number; backend: number }[] = [];
    // Five failures from one address are free (src/security/rate-limits.ts); the sixth attempt must wait.
    for (let attempt = 0; attempt < 6; attempt++) {
      const result = await agent.submit(page, 'form[action$="/login"]', { identifier: target.email, password: 'not the password' });
      if (!isPage(result)) throw new Error('a wrong password signed in');
      statuses.push({ status: result.status, backend: proxy.served.at(-1)!.backend });
      page = result;
    }
    expect(statuses.slice(0, 5).map((entry) => entry.status)).toEqual(Array(5).fill(401));
    expect(new Set(statuses.slice(0, 5).map((entry) => entry.backend))).toEqual(new Set([0, 1]));
    expect(statuses[5]!.status).toBe(429);
  });

  test('the signing keys rotate across the fleet while tokens from before keep verifying on every instance', async () => {
    const k1 = await accountKid('current');
    const before = await signIn();
    const t1 = before.tokens.id_token!;
    expect(signingKid(t1)).toBe(k1);

    // Step 1: publish the next key, roll every instance; nothing signs with it yet.
    await operator('keys', 'add-next');
    const k2 = await accountKid('next');
    await rollFleet();
    for (const jwks of await jwksOfEachInstance()) expect(jwks.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([k1, k2]));
    await expectVerifiesEverywhere(t1);
    expect(signingKid((await signIn()).tokens.id_token!)).toBe(k1);

    // Step 2: promote and roll. Halfway through the roll one instance signs with k2 and the
    // other still with k1, and both keys are published by both: whatever an RP gets verifies.
    await operator('keys', 'promote');
    const port = instances[0]!.port;
    proxy.backends[0] = undefined;
    await instances[0]!.stop();
    instances[0] = await start(0, port);
    proxy.backends[0] = port;
    const first = await signIn();
    // Strict turns: with an even number of requests per sign-in the next token request would land on the same instance.
    if (first.steps.length % 2 === 0) await fetch(`${proxy.url}/healthz`);
    const halfway = [first, await signIn()].map((result) => result.tokens.id_token!);
    expect(new Set(halfway.map(signingKid))).toEqual(new Set([k1, k2]));
    for (const token of halfway) await expectVerifiesEverywhere(token);
    await expectVerifiesEverywhere(t1);
    await rollFleet();
    const t2 = (await signIn()).tokens.id_token!;
    expect(signingKid(t2)).toBe(k2);
    await expectVerifiesEverywhere(t2);
    await expectVerifiesEverywhere(t1);

    // Step 3: retire the old key and roll: k1 is gone everywhere, and so is trust in what only it signed.
    await operator('keys', 'retire');
    await rollFleet();
    for (const jwks of await jwksOfEachInstance()) {
      expect(jwks.keys.map((key) => key.kid)).not.toContain(k1);
      await expect(jwtVerify(t1, createLocalJWKSet(jwks), { issuer: proxy.url })).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    }
    await expectVerifiesEverywhere(t2);

    // A refresh token is not signed by the key: the one from before the rotation still works, on both instances.
    const refreshed = await oidc.refreshTokenGrant(before.client, before.tokens.refresh_token!);
    expect(signingKid(refreshed.id_token!)).toBe(k2);
    await expectVerifiesEverywhere(refreshed.id_token!);
  });
});
