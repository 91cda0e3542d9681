import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { REFRESH_TOKEN_REUSE_SECONDS } from '../../src/oidc/adapter.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient, exchangeCode, signInThroughForms, startAuthorization, type PendingAuthorization } from '../support/relying-party.js';
import { sleep, waitFor } from '../support/wait.js';
import { UserAgent } from '../support/user-agent.js';

/**
 * RFC 9700 4.14.2: a rotated refresh token used again means it leaked, and the
 * grant ends. NetID forgives a reuse within a few seconds (two instances, or a
 * client retrying a request whose answer it lost), and then the reuse must get
 * the answer already given, never a second chain of tokens.
 */
describe.each(backends)('a refresh token used twice (%s)', (backend) => {
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

  /** A sign-in up to the code the account's callback receives. */
  async function signIn(): Promise<{ callback: URL; pending: PendingAuthorization }> {
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri, { scope: 'openid profile offline_access', prompt: 'consent' });
    return { callback: await signInThroughForms(agent, pending.url, person.email, person.password), pending };
  }

  async function signedInTokens() {
    const { callback, pending } = await signIn();
    const tokens = await exchangeCode(client, callback, pending);
    expect(tokens.refresh_token).toBeDefined();
    return tokens;
  }

  const refresh = (refreshToken: string) => oidc.refreshTokenGrant(client, refreshToken);

  /**
   * Starts two requests that present one code or token at the same moment.
   * On PostgreSQL its row stays locked until both wait to use it up, so both
   * have read it unused before either does, however busy the machine. The
   * embedded database runs one statement at a time, so there the requests
   * race as they come, and either order must end the same way.
   */
  async function racing<T>(model: string, id: string, request: () => Promise<T>): Promise<PromiseSettledResult<T>[]> {
    if (backend !== 'postgres') return Promise.allSettled([request(), request()]);
    const holder = await database.db.transaction();
    try {
      await holder.raw('select 1 from oidc_models where model = ? and id = ? for update', [model, id]);
      const settled = Promise.allSettled([request(), request()]);
      await waitFor('both requests waiting to use it up', async () => {
        const waiting = await database.db.raw("select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()");
        return waiting.rows[0].n >= 2;
      });
      await holder.rollback();
      return await settled;
    } finally {
      if (!holder.isCompleted()) await holder.rollback();
    }
  }

  const active = async (token: string) => (await oidc.tokenIntrospection(client, token)).active;

  test('a reuse a second later gets the same answer, and one chain of tokens lives on', async () => {
    const tokens = await signedInTokens();
    const first = await refresh(tokens.refresh_token!);
    const firstUse = Date.now();
    await sleep(1000);
    const again = await refresh(tokens.refresh_token!);

    expect(again.refresh_token).toBe(first.refresh_token);
    expect(again.access_token).toBe(first.access_token);
    expect(again.id_token).toBe(first.id_token);

    // The one successor goes on rotating.
    const next = await refresh(first.refresh_token!);
    expect(next.refresh_token).not.toBe(first.refresh_token);
    expect(await active(next.access_token)).toBe(true);

    // Once the window has passed, the original used again is a replay: the whole grant ends.
    await sleep(Math.max(0, firstUse + REFRESH_TOKEN_REUSE_SECONDS * 1000 + 200 - Date.now()));
    await expect(refresh(tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await active(next.access_token)).toBe(false);
    expect(await active(next.refresh_token!)).toBe(false);
    await expect(refresh(next.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('two refreshes with one token at the same moment get the same successor', async () => {
    const tokens = await signedInTokens();
    const [one, other] = (await racing('RefreshToken', tokens.refresh_token!, () => refresh(tokens.refresh_token!))).map((result) => {
      if (result.status === 'rejected') throw result.reason;
      return result.value;
    });

    expect(other!.refresh_token).toBe(one!.refresh_token);
    expect(other!.access_token).toBe(one!.access_token);
    expect(await active(one!.access_token)).toBe(true);
    const next = await refresh(one!.refresh_token!);
    expect(await active(next.access_token)).toBe(true);
  });

  test('two exchanges of one code at the same moment: one gets tokens, the other invalid_grant', async () => {
    const { callback, pending } = await signIn();
    const code = callback.searchParams.get('code')!;
    const { grant_id: grantId } = await database.db('oidc_models').where({ model: 'AuthorizationCode', id: code }).first('grant_id');
    const results = await racing('AuthorizationCode', code, () => exchangeCode(client, callback, pending));

    const issued = results.filter((result) => result.status === 'fulfilled');
    const refused = results.filter((result) => result.status === 'rejected');
    expect(issued).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toMatchObject({ error: 'invalid_grant' });

    // Nothing minted for the refused exchange was kept: the tokens handed out are the only ones of the grant.
    const tokens = issued[0]!.value;
    const stored = await database.db('oidc_models').where({ grant_id: grantId }).whereIn('model', ['AccessToken', 'RefreshToken']).pluck('id');
    if (backend === 'postgres') {
      // Both read the code unused, so neither exchange looked like a replay and the tokens given stay valid.
      expect(await active(tokens.access_token)).toBe(true);
      expect(stored.sort()).toEqual([tokens.access_token, tokens.refresh_token].sort());
    } else {
      // The second may have read the code already used: a replay, after which oidc-provider ends the grant.
      expect([tokens.access_token, tokens.refresh_token]).toEqual(expect.arrayContaining(stored));
    }
  });
});
