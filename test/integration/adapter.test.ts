import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { createQueries, createQueryCaches, type Queries } from '../../src/db/queries.js';
import type { Database } from '../../src/db/database.js';
import { createStatementRunner } from '../../src/db/prepared-statements.js';
import { createModelLookup } from '../../src/oidc/model-lookup.js';
import { createModelStorage, deleteExpiredModels, REFRESH_TOKEN_REUSE_SECONDS } from '../../src/oidc/adapter.js';
import { createSealer } from '../../src/security/sealing.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const HOUR = 3600;
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe.each(backends)('oidc-provider adapter on %s', (backend) => {
  let database: TestDatabase;
  let db: Database;
  let adapterFor: (model: string) => Adapter;
  let clients: Queries['clients'];

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    db = database.db;
    const sealer = createSealer(randomBytes(32));
    clients = createQueries(db, { sealer, codeKey: randomBytes(32), caches: createQueryCaches(db) }).clients;
    adapterFor = createModelStorage(db, clients, sealer).adapterFor;
  });

  afterAll(async () => {
    await database?.dispose();
  });

  beforeEach(async () => {
    await db('oidc_models').delete();
    await db('clients').delete();
    await db('accounts').delete();
  });

  /** Moves a stored row's expiry into the past, as if its lifetime had run out. */
  const expire = (model: string, id: string) =>
    db('oidc_models').where({ model, id }).update({ expires_at: new Date(Date.now() - 60_000) });

  /** Moves a row's first use into the past, as if that many seconds had gone by since. */
  const consumedAgo = (model: string, id: string, seconds: number) =>
    db('oidc_models').where({ model, id }).update({ consumed_at: new Date(Date.now() - seconds * 1000) });

  function tokenPayload(grantId: string, extra: Partial<AdapterPayload> = {}): AdapterPayload {
    return {
      jti: randomUUID(),
      kind: 'AccessToken',
      grantId,
      accountId: 'profile-1',
      clientId: 'client-1',
      scope: 'openid email',
      iat: nowSeconds(),
      exp: nowSeconds() + HOUR,
      ...extra,
    };
  }

  describe('upsert and find', () => {
    test('gives back exactly the payload that was stored', async () => {
      const payload: AdapterPayload = {
        jti: 'session-1',
        kind: 'Session',
        uid: 'uid-1',
        accountId: 'profile-1',
        loginTs: 1_760_000_000,
        authorizations: { 'client-1': { sid: 'sid-1', grantId: 'grant-1', persistsLogout: true } },
        acr: 'urn:netid:password',
        amr: ['pwd'],
        exp: nowSeconds() + HOUR,
      };
      await adapterFor('Session').upsert('session-1', payload, HOUR);
      expect(await adapterFor('Session').find('session-1')).toEqual(payload);
    });

    test('replaces the payload when the same id is stored again', async () => {
      const adapter = adapterFor('Session');
      await adapter.upsert('session-1', { jti: 'session-1', accountId: 'before' }, HOUR);
      await adapter.upsert('session-1', { jti: 'session-1', accountId: 'after' }, HOUR);
      expect(await adapter.find('session-1')).toEqual({ jti: 'session-1', accountId: 'after' });
      expect(Number((await db('oidc_models').where({ id: 'session-1' }).count({ n: '*' }))[0]!.n)).toBe(1);
    });

    test('keeps models apart even when their ids are equal', async () => {
      await adapterFor('AccessToken').upsert('same-id', { kind: 'AccessToken' }, HOUR);
      await adapterFor('AuthorizationCode').upsert('same-id', { kind: 'AuthorizationCode' }, HOUR);
      expect(await adapterFor('AccessToken').find('same-id')).toEqual({ kind: 'AccessToken' });
      expect(await adapterFor('AuthorizationCode').find('same-id')).toEqual({ kind: 'AuthorizationCode' });
      expect(await adapterFor('RefreshToken').find('same-id')).toBeUndefined();
    });

    test('finds nothing for an id never stored', async () => {
      expect(await adapterFor('AccessToken').find('never-stored')).toBeUndefined();
    });

    test('keeps a model stored without a lifetime', async () => {
      await adapterFor('Grant').upsert('grant-1', { jti: 'grant-1', kind: 'Grant' }, 0);
      expect(await adapterFor('Grant').find('grant-1')).toEqual({ jti: 'grant-1', kind: 'Grant' });
    });
  });

  describe('expiry', () => {
    test('ignores a model whose lifetime has passed', async () => {
      await adapterFor('AccessToken').upsert('at-1', tokenPayload('grant-1'), HOUR);
      await expire('AccessToken', 'at-1');
      expect(await adapterFor('AccessToken').find('at-1')).toBeUndefined();
    });

    test('ignores a model stored with a one-second lifetime once that second is over', async () => {
      await adapterFor('AuthorizationCode').upsert('code-1', tokenPayload('grant-1'), 1);
      expect(await adapterFor('AuthorizationCode').find('code-1')).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(await adapterFor('AuthorizationCode').find('code-1')).toBeUndefined();
    });

    test('gives an expired model a new lifetime when it is stored again', async () => {
      const adapter = adapterFor('Session');
      await adapter.upsert('session-1', { jti: 'session-1' }, HOUR);
      await expire('Session', 'session-1');
      await adapter.upsert('session-1', { jti: 'session-1', accountId: 'profile-1' }, HOUR);
      expect(await adapter.find('session-1')).toEqual({ jti: 'session-1', accountId: 'profile-1' });
    });
  });

  describe('findByUid and findByUserCode', () => {
    test('findByUid finds a live session by its uid and nothing else', async () => {
      const adapter = adapterFor('Session');
      await adapter.upsert('session-1', { jti: 'session-1', uid: 'uid-1', accountId: 'profile-1' }, HOUR);
      await adapter.upsert('session-2', { jti: 'session-2', uid: 'uid-2', accountId: 'profile-2' }, HOUR);

      expect(await adapter.findByUid('uid-1')).toEqual({ jti: 'session-1', uid: 'uid-1', accountId: 'profile-1' });
      expect(await adapter.findByUid('uid-3')).toBeUndefined();
      expect(await adapterFor('Interaction').findByUid('uid-1')).toBeUndefined();

      await expire('Session', 'session-1');
      expect(await adapter.findByUid('uid-1')).toBeUndefined();
    });

    test('findByUserCode finds a live device code by its user code and nothing else', async () => {
      const adapter = adapterFor('DeviceCode');
      const payload = tokenPayload('grant-1', { kind: 'DeviceCode', userCode: 'WDJBMJHT' });
      await adapter.upsert('device-1', payload, HOUR);

      expect(await adapter.findByUserCode('WDJBMJHT')).toEqual(payload);
      expect(await adapter.findByUserCode('XXXXXXXX')).toBeUndefined();
      expect(await adapterFor('AccessToken').findByUserCode('WDJBMJHT')).toBeUndefined();

      await expire('DeviceCode', 'device-1');
      expect(await adapter.findByUserCode('WDJBMJHT')).toBeUndefined();
    });

    test('findByUserCode reports a used device code as consumed', async () => {
      const adapter = adapterFor('DeviceCode');
      await adapter.upsert('device-1', tokenPayload('grant-1', { kind: 'DeviceCode', userCode: 'WDJBMJHT' }), HOUR);
      await adapter.consume('device-1');
      expect((await adapter.findByUserCode('WDJBMJHT'))?.consumed).toEqual(expect.any(Number));
    });
  });

  describe('consume', () => {
    test('marks an authorization code consumed at once, so a second exchange is a replay', async () => {
      const adapter = adapterFor('AuthorizationCode');
      const payload = tokenPayload('grant-1', { kind: 'AuthorizationCode' });
      await adapter.upsert('code-1', payload, 60);
      expect(await adapter.find('code-1')).not.toHaveProperty('consumed');

      const before = nowSeconds();
      await adapter.consume('code-1');

      const found = await adapter.find('code-1');
      expect(found).toMatchObject(payload);
      expect(found?.consumed).toBeGreaterThanOrEqual(before - 1);
      expect(found?.consumed).toBeLessThanOrEqual(nowSeconds() + 1);
    });

    test('hides the first use of a refresh token within the reuse window', async () => {
      const adapter = adapterFor('RefreshToken');
      const payload = tokenPayload('grant-1', { kind: 'RefreshToken' });
      await adapter.upsert('rt-1', payload, HOUR);

      await adapter.consume('rt-1');
      expect(await adapter.find('rt-1')).toEqual(payload);

      await consumedAgo('RefreshToken', 'rt-1', REFRESH_TOKEN_REUSE_SECONDS - 1);
      expect(await adapter.find('rt-1')).toEqual(payload);
    });

    test('shows a refresh token as consumed once the reuse window has passed', async () => {
      const adapter = adapterFor('RefreshToken');
      await adapter.upsert('rt-1', tokenPayload('grant-1', { kind: 'RefreshToken' }), HOUR);
      await adapter.consume('rt-1');

      const firstUse = new Date(Date.now() - (REFRESH_TOKEN_REUSE_SECONDS + 1) * 1000);
      await db('oidc_models').where({ model: 'RefreshToken', id: 'rt-1' }).update({ consumed_at: firstUse });

      expect((await adapter.find('rt-1'))?.consumed).toBe(Math.floor(firstUse.getTime() / 1000));
    });

    test('keeps the time of the first use when a token is consumed again', async () => {
      const adapter = adapterFor('RefreshToken');
      await adapter.upsert('rt-1', tokenPayload('grant-1', { kind: 'RefreshToken' }), HOUR);
      await adapter.consume('rt-1');
      await consumedAgo('RefreshToken', 'rt-1', REFRESH_TOKEN_REUSE_SECONDS + 10);
      const firstUse = (await adapter.find('rt-1'))?.consumed;

      await adapter.consume('rt-1');

      // A later use must not restart the reuse window.
      expect((await adapter.find('rt-1'))?.consumed).toBe(firstUse);
    });

    test('consumes only the model it was asked for', async () => {
      await adapterFor('AuthorizationCode').upsert('shared', tokenPayload('grant-1'), 60);
      await adapterFor('AccessToken').upsert('shared', tokenPayload('grant-1'), 60);
      await adapterFor('AuthorizationCode').consume('shared');
      expect(await adapterFor('AccessToken').find('shared')).not.toHaveProperty('consumed');
    });
  });

  describe('destroy', () => {
    test('removes the model, leaving the same id of another model', async () => {
      await adapterFor('AccessToken').upsert('shared', tokenPayload('grant-1'), HOUR);
      await adapterFor('RefreshToken').upsert('shared', tokenPayload('grant-1'), HOUR);

      await adapterFor('AccessToken').destroy('shared');

      expect(await adapterFor('AccessToken').find('shared')).toBeUndefined();
      expect(await adapterFor('RefreshToken').find('shared')).toBeDefined();
    });
  });

  describe("lookups with the person's claims", () => {
    test('a token whose subject names no profile comes back without claims instead of failing', async () => {
      await adapterFor('AccessToken').upsert('odd-subject', tokenPayload('grant-1', { accountId: 'not-a-uuid' }), HOUR);
      const lookUp = createModelLookup(createStatementRunner(db));
      const row = await lookUp('AccessToken', 'odd-subject', true);
      expect(row?.payload.accountId).toBe('not-a-uuid');
      expect(row?.claims).toEqual({ source: null, accountId: null });
    });
  });

  describe('revokeByGrantId', () => {
    const grantModels = ['AuthorizationCode', 'AccessToken', 'RefreshToken', 'DeviceCode'];

    test('removes every code and token issued under the grant and leaves other grants alone', async () => {
      for (const grantId of ['grant-revoked', 'grant-kept']) {
        for (const model of grantModels) {
          await adapterFor(model).upsert(`${model}-${grantId}`, tokenPayload(grantId, { kind: model }), HOUR);
        }
      }
      await adapterFor('Session').upsert('session-1', { jti: 'session-1', accountId: 'profile-1' }, HOUR);

      // oidc-provider calls it once per model; one call must already take every model of the grant.
      await adapterFor('AccessToken').revokeByGrantId('grant-revoked');

      for (const model of grantModels) {
        expect(await adapterFor(model).find(`${model}-grant-revoked`)).toBeUndefined();
        expect(await adapterFor(model).find(`${model}-grant-kept`)).toMatchObject({ grantId: 'grant-kept' });
      }
      expect(await adapterFor('Session').find('session-1')).toBeDefined();
    });
  });

  describe('deleteExpiredModels', () => {
    async function store(count: number, prefix: string, expired: boolean): Promise<void> {
      for (let i = 0; i < count; i += 1) {
        await adapterFor('AccessToken').upsert(`${prefix}-${i}`, tokenPayload('grant-1'), HOUR);
        if (expired) await expire('AccessToken', `${prefix}-${i}`);
      }
    }

    /** Counts the delete statements sent while `run` goes, to see how the work was split. */
    async function countDeletes<T>(run: () => Promise<T>): Promise<{ result: T; deletes: number }> {
      let deletes = 0;
      const listener = (query: { sql: string }) => {
        if (/^\s*delete\b/i.test(query.sql)) deletes += 1;
      };
      db.on('query', listener);
      try {
        return { result: await run(), deletes };
      } finally {
        db.off('query', listener);
      }
    }

    test('deletes only expired rows, across several batches, and returns how many went', async () => {
      await store(7, 'expired', true);
      await store(3, 'live', false);
      await adapterFor('Grant').upsert('grant-forever', { jti: 'grant-forever' }, 0);

      const { result, deletes } = await countDeletes(() => deleteExpiredModels(db, 3));

      expect(result).toBe(7);
      // 3 + 3 + 1: no statement removes more than the batch size.
      expect(deletes).toBe(3);

      expect((await db('oidc_models').orderBy('id').pluck('id')).sort()).toEqual(
        ['grant-forever', 'live-0', 'live-1', 'live-2'].sort(),
      );
    });

    test('stops after a full last batch when the count is a multiple of the batch size', async () => {
      await store(6, 'expired', true);
      await store(1, 'live', false);
      const { result, deletes } = await countDeletes(() => deleteExpiredModels(db, 3));
      expect(result).toBe(6);
      // 3 + 3, then one that finds nothing left.
      expect(deletes).toBe(3);
      expect(await db('oidc_models').pluck('id')).toEqual(['live-0']);
    });

    test('returns 0 when nothing has expired', async () => {
      await store(2, 'live', false);
      expect(await deleteExpiredModels(db, 3)).toBe(0);
      expect(await deleteExpiredModels(db)).toBe(0);
      expect(await db('oidc_models').count({ n: '*' }).then((rows) => Number(rows[0]!.n))).toBe(2);
    });
  });

  describe("the 'Client' model", () => {
    test('reads a registered client from the clients table with its secret opened', async () => {
      const accountId = randomUUID();
      await db('accounts').insert({ id: accountId, name: 'analytical-engines' });
      await clients.insert({
        metadata: {
          client_id: 'account-client',
          redirect_uris: ['https://analytical-engines.bitrix24.test/oauth/callback'],
          grant_types: ['authorization_code', 'refresh_token'],
        },
        clientSecret: 'the-client-secret',
        accountId,
      });

      expect(await adapterFor('Client').find('account-client')).toEqual({
        client_id: 'account-client',
        client_secret: 'the-client-secret',
        redirect_uris: ['https://analytical-engines.bitrix24.test/oauth/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        netid_account_id: accountId,
        netid_first_party: false,
      });
      const stored = await db('clients').where({ client_id: 'account-client' }).first('client_secret_sealed');
      expect(stored.client_secret_sealed).not.toContain('the-client-secret');
    });

    test('reads a public client without a secret', async () => {
      await clients.insert({
        metadata: { client_id: 'public-client', token_endpoint_auth_method: 'none' },
        firstParty: true,
      });
      const found = await adapterFor('Client').find('public-client');
      expect(found).toMatchObject({ client_id: 'public-client', netid_first_party: true });
      expect(found).not.toHaveProperty('client_secret');
    });

    test('finds no unknown client, even if an oidc_models row has its id', async () => {
      await db('oidc_models').insert({ model: 'Client', id: 'ghost', payload: JSON.stringify({ client_id: 'ghost' }) });
      expect(await adapterFor('Client').find('ghost')).toBeUndefined();
    });

    test('refuses to register a client through oidc-provider', async () => {
      await expect(adapterFor('Client').upsert('dynamic', { client_id: 'dynamic' }, 0)).rejects.toThrow(
        /command line/,
      );
      expect(await db('clients').where({ client_id: 'dynamic' }).first()).toBeUndefined();
    });
  });
});
