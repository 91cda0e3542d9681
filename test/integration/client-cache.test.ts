import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createVersionedCache } from '../../src/db/cached-by-version.js';
import type { Database } from '../../src/db/database.js';
import { createQueries, createQueryCaches, type Queries } from '../../src/db/queries.js';
import { createSealer } from '../../src/security/sealing.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(backends)('clients and resource servers cached per instance (%s)', (backend) => {
  let database: TestDatabase;
  let db: Database;
  const sealer = createSealer(randomBytes(32));

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    db = database.db;
  });

  afterAll(async () => {
    await database?.dispose();
  });

  beforeEach(async () => {
    await db('clients').delete();
  });

  /** The repositories as one NetID process holds them, with caches of its own. */
  const instance = (): Queries => createQueries(db, { sealer, codeKey: randomBytes(32), caches: createQueryCaches(db) });

  const register = (queries: Queries['clients'], clientId: string, name: string) =>
    queries.insert({ metadata: { client_id: clientId, client_name: name, redirect_uris: ['https://rp.test/cb'] }, clientSecret: 'secret' });

  test('reads the database once while nothing changes', async () => {
    const cache = createVersionedCache<{ n: number }>(db, { name: 'clients', checkEveryMs: 60_000 });
    let loads = 0;
    const load = async () => ({ n: ++loads });
    expect(await cache.get('a', load)).toEqual({ n: 1 });
    expect(await cache.get('a', load)).toEqual({ n: 1 });
    expect(loads).toBe(1);
  });

  test('hands out copies, so a caller changing its value changes nothing for the next', async () => {
    const cache = createVersionedCache<{ list: string[] }>(db, { name: 'clients', checkEveryMs: 60_000 });
    const first = await cache.get('a', async () => ({ list: ['x'] }));
    first!.list.push('changed');
    expect(await cache.get('a', async () => ({ list: ['reloaded'] }))).toEqual({ list: ['x'] });
  });

  test('keeps no miss, so a client registered elsewhere is found at once', async () => {
    const cache = createVersionedCache<{ n: number }>(db, { name: 'clients', checkEveryMs: 60_000 });
    expect(await cache.get('a', async () => undefined)).toBeUndefined();
    expect(await cache.get('a', async () => ({ n: 2 }))).toEqual({ n: 2 });
  });

  test('drops everything once any change to the clients table commits, however it was made', async () => {
    const cache = createVersionedCache<{ n: number }>(db, { name: 'clients', checkEveryMs: 50 });
    let loads = 0;
    const load = async () => ({ n: ++loads });
    await cache.get('a', load);
    // Plain SQL, as another instance, a cascade or an operator at psql would change it: the trigger counts it.
    await db('clients').insert({ client_id: 'other', metadata: JSON.stringify({ client_id: 'other' }) });
    await sleep(80);
    expect(await cache.get('a', load)).toEqual({ n: 2 });
  });

  test('does not keep a value loaded before this process forgot it', async () => {
    const cache = createVersionedCache<{ n: number }>(db, { name: 'clients', checkEveryMs: 60_000 });
    let release: (() => void) | undefined;
    const slowLoad = cache.get('a', async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return { n: 1 };
    });
    while (!release) await sleep(5);
    cache.forget('a');
    release();
    expect(await slowLoad).toEqual({ n: 1 });
    expect(await cache.get('a', async () => ({ n: 2 }))).toEqual({ n: 2 });
  });

  test("an instance sees its own change at once, another instance's within a second", async () => {
    const here = instance().clients;
    const there = instance().clients;
    await register(here, 'rp', 'Before');
    expect(await here.findMetadata('rp')).toMatchObject({ client_name: 'Before', client_secret: 'secret' });
    expect(await there.findMetadata('rp')).toMatchObject({ client_name: 'Before' });

    const renamed = { client_id: 'rp', client_name: 'After', redirect_uris: ['https://rp.test/cb'] };
    await here.updateMetadata('rp', renamed);
    expect(await here.findMetadata('rp')).toMatchObject({ client_name: 'After' });
    await sleep(1100);
    expect(await there.findMetadata('rp')).toMatchObject({ client_name: 'After' });
  });

  test('a change inside a transaction shows once it commits, and not if it rolls back', async () => {
    const queries = instance();
    await register(queries.clients, 'rp', 'Before');
    expect(await queries.clients.findMetadata('rp')).toMatchObject({ client_name: 'Before' });

    await queries
      .transaction(async (inner) => {
        await inner.clients.updateMetadata('rp', { client_id: 'rp', client_name: 'Rolled back' });
        expect(await inner.clients.findMetadata('rp')).toMatchObject({ client_name: 'Rolled back' });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await queries.clients.findMetadata('rp')).toMatchObject({ client_name: 'Before' });

    await queries.transaction(async (inner) => {
      await inner.clients.updateMetadata('rp', { client_id: 'rp', client_name: 'Committed' });
    });
    expect(await queries.clients.findMetadata('rp')).toMatchObject({ client_name: 'Committed' });
  });

  test("a resource server opened to a client on one instance is open on another within a second", async () => {
    await db('resource_servers').delete();
    await register(instance().clients, 'worker', 'Worker');
    const here = instance().resourceServers;
    const there = instance().resourceServers;
    const identifier = 'https://api.netid.test/cache';
    await here.insert({
      identifier,
      name: 'Cache API',
      scopes: ['cache:read'],
      accessTokenFormat: 'jwt',
      signingAlg: 'RS256',
      accessTokenTtl: 300,
      clientIds: [],
    });
    expect(await there.find(identifier)).toMatchObject({ name: 'Cache API', clientIds: [] });

    expect(await here.allowClient(identifier, 'worker')).toBe(true);
    expect(await here.allowClient(identifier, 'worker')).toBe(false);
    expect(await here.find(identifier)).toMatchObject({ clientIds: ['worker'] });
    await sleep(1100);
    expect(await there.find(identifier)).toMatchObject({ clientIds: ['worker'] });

    // Deleting the client takes it off the list everywhere: the cascade counts as a change too.
    await db('clients').where({ client_id: 'worker' }).delete();
    await sleep(1100);
    expect(await there.find(identifier)).toMatchObject({ clientIds: [] });
  });
});
