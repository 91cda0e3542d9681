import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import Koa, { type Context } from 'koa';
import { errors } from 'oidc-provider';
import type { Database } from '../../src/db/database.js';
import { createStatementRunner } from '../../src/db/prepared-statements.js';
import { createRefreshReuse, forgetReuseResponses, REFRESH_TOKEN_REUSE_SECONDS } from '../../src/oidc/refresh-reuse.js';
import { createRequestWrites, type ModelWrite } from '../../src/oidc/request-writes.js';
import { createSealer } from '../../src/security/sealing.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const HOUR_MS = 3_600_000;

/**
 * The writes of oidc-provider's requests, driven as oidc-provider drives them
 * (src/oidc/adapter.ts), with a request handler in place of its routes. The
 * end-to-end behaviour is in test/e2e/refresh-token-reuse.test.ts; this covers
 * what oidc-provider's grant handlers never do today but may: a read in the
 * middle of a request that sends a consume before the answer exists.
 */
describe.each(backends)('request writes on %s', (backend) => {
  let database: TestDatabase;
  let db: Database;
  let writes: ReturnType<typeof createRequestWrites>;
  const app = new Koa();

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    db = database.db;
    const run = createStatementRunner(db);
    writes = createRequestWrites(db, run, createRefreshReuse(run, createSealer(randomBytes(32))));
  });

  afterAll(async () => {
    await database?.dispose();
  });

  beforeEach(async () => {
    await db('oidc_models').delete();
  });

  const request = (): Context => {
    const incoming = new http.IncomingMessage(new net.Socket());
    return app.createContext(incoming, new http.ServerResponse(incoming)) as Context;
  };

  const upsert = (model: string, id: string): ModelWrite => ({
    kind: 'upsert',
    model,
    id,
    payload: JSON.stringify({ jti: id, kind: model }),
    grantId: 'grant-1',
    userCode: null,
    uid: null,
    expiresAt: new Date(Date.now() + HOUR_MS),
  });
  const consume = (id: string): ModelWrite => ({ kind: 'consume', model: 'RefreshToken', id });
  const stored = async () => (await db('oidc_models').orderBy('id').pluck('id')) as string[];

  /** A refresh as oidc-provider makes one: consume the token, store a successor and an access token, answer. */
  async function refresh(ctx: Context, presented: string, successor: string, midRequestRead = false): Promise<void> {
    await writes.trackRequest(ctx, async () => {
      await writes.write(ctx, consume(presented));
      await writes.write(ctx, upsert('RefreshToken', successor));
      await writes.write(ctx, upsert('AccessToken', `at-${successor}`));
      if (midRequestRead) {
        try {
          await writes.flush(ctx);
        } catch (error) {
          // oidc-provider's route error handler answers what its adapter throws.
          expect(error).toBeInstanceOf(errors.InvalidGrant);
          ctx.status = 400;
          ctx.body = { error: 'invalid_grant', error_description: 'grant request is invalid' };
          return;
        }
      }
      ctx.body = { access_token: `at-${successor}`, refresh_token: successor, token_type: 'Bearer', expires_in: 3600 };
    });
  }

  test('a refresh that lost its consume to an earlier one answers as that one did and stores nothing', async () => {
    await writes.write(undefined, upsert('RefreshToken', 'rt-0'));
    const first = request();
    await refresh(first, 'rt-0', 'rt-1');
    expect(first.status).toBe(200);

    const again = request();
    await refresh(again, 'rt-0', 'rt-2');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await stored()).toEqual(['at-rt-1', 'rt-0', 'rt-1']);
  });

  test('refreshes finishing together are stored together, and one that lost its consume stores nothing even beside others that did not', async () => {
    for (const token of ['rt-a', 'rt-b', 'rt-c']) await writes.write(undefined, upsert('RefreshToken', token));
    await refresh(request(), 'rt-b', 'rt-b1');

    // One round of the event loop: the three share what they send, the used rt-b included.
    const [a, b, c] = [request(), request(), request()];
    await Promise.all([refresh(a, 'rt-a', 'rt-a1'), refresh(b, 'rt-b', 'rt-b2'), refresh(c, 'rt-c', 'rt-c1')]);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(b.body).toMatchObject({ refresh_token: 'rt-b1' });
    expect(await stored()).toEqual(['at-rt-a1', 'at-rt-b1', 'at-rt-c1', 'rt-a', 'rt-a1', 'rt-b', 'rt-b1', 'rt-c', 'rt-c1']);
  });

  test('two requests presenting one token in the same round: exactly one consumes it, both answer alike', async () => {
    await writes.write(undefined, upsert('RefreshToken', 'rt-0'));
    const [first, second] = [request(), request()];
    await Promise.all([refresh(first, 'rt-0', 'rt-1'), refresh(second, 'rt-0', 'rt-2')]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body).toEqual(first.body);
    const successors = (await stored()).filter((id) => id !== 'rt-0');
    expect(successors).toHaveLength(2);
  });

  test('a consume lost in the middle of a request fails the read there, and the request still answers as the first did', async () => {
    await writes.write(undefined, upsert('RefreshToken', 'rt-0'));
    const first = request();
    await refresh(first, 'rt-0', 'rt-1');

    const again = request();
    await refresh(again, 'rt-0', 'rt-2', true);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await stored()).toEqual(['at-rt-1', 'rt-0', 'rt-1']);
  });

  test('after the window, a lost consume is invalid_grant, in the middle of a request or at its end', async () => {
    await writes.write(undefined, upsert('RefreshToken', 'rt-0'));
    await refresh(request(), 'rt-0', 'rt-1');
    await db('oidc_models').where({ model: 'RefreshToken', id: 'rt-0' }).update({ consumed_at: new Date(Date.now() - (REFRESH_TOKEN_REUSE_SECONDS + 1) * 1000) });

    const midway = request();
    await refresh(midway, 'rt-0', 'rt-2', true);
    expect(midway.status).toBe(400);
    expect(midway.body).toEqual({ error: 'invalid_grant', error_description: 'grant request is invalid' });

    await expect(refresh(request(), 'rt-0', 'rt-3')).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(await stored()).toEqual(['at-rt-1', 'rt-0', 'rt-1']);
  });

  test('the cleanup clears kept answers once their window has passed, and keeps the tokens', async () => {
    for (const token of ['rt-old', 'rt-recent']) {
      await writes.write(undefined, upsert('RefreshToken', token));
      await refresh(request(), token, `${token}-next`);
    }
    await db('oidc_models').where({ model: 'RefreshToken', id: 'rt-old' }).update({ consumed_at: new Date(Date.now() - (REFRESH_TOKEN_REUSE_SECONDS + 1) * 1000) });

    expect(await forgetReuseResponses(db, 1)).toBe(1);
    const kept = await db('oidc_models').whereNotNull('reuse_response_sealed').pluck('id');
    expect(kept).toEqual(['rt-recent']);
    expect(await stored()).toHaveLength(6);
  });
});
