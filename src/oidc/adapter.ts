import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import type { ClientQueries } from '../db/clients.js';
import type { Database } from '../db/database.js';
import { createStatementRunner, preparedStatement } from '../db/prepared-statements.js';
import type { Sealer } from '../security/sealing.js';
import { boundSessionUid, createModelLookup } from './model-lookup.js';
import { createRefreshReuse, REFRESH_TOKEN_REUSE_SECONDS } from './refresh-reuse.js';
import { createRequestPrefetch } from './request-prefetch.js';
import { createRequestWrites } from './request-writes.js';

export { REFRESH_TOKEN_REUSE_SECONDS };

interface ModelRow {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

// Within the reuse window a consumed refresh token reads as unused, so oidc-provider does not revoke the grant
// and the request goes on to lose its consume, then answers as the first use did (src/oidc/refresh-reuse.ts).
function toPayload(row: ModelRow | undefined, model: string): AdapterPayload | undefined {
  if (!row) return undefined;
  const payload = row.payload;
  if (!row.consumed_at) return payload;
  const consumedFor = (Date.now() - row.consumed_at.getTime()) / 1000;
  if (model === 'RefreshToken' && consumedFor < REFRESH_TOKEN_REUSE_SECONDS) return payload;
  return { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) };
}

// Expired rows are invisible until the cleanup job deletes them.
const LIVE = '(expires_at is null or expires_at > now())';

const statements = {
  find: preparedStatement('model_find', `select payload, consumed_at from oidc_models where model = ? and id = ? and ${LIVE}`),
  findByUid: preparedStatement('model_find_by_uid', `select payload, consumed_at from oidc_models where model = ? and uid = ? and ${LIVE} limit 1`),
  findByUserCode: preparedStatement(
    'model_find_by_user_code',
    `select payload, consumed_at from oidc_models where model = ? and user_code = ? and ${LIVE} limit 1`,
  ),
  destroy: preparedStatement('model_destroy', 'delete from oidc_models where model = ? and id = ?'),
  revokeByGrantId: preparedStatement('model_revoke_by_grant', 'delete from oidc_models where grant_id = ?'),
};

/** Models oidc-provider looks up and then, in the same request, looks up their Grant. */
const GRANT_BOUND = new Set(['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** The request oidc-provider is handling, if any (its own AsyncLocalStorage). */
const currentRequest = (): object | undefined => (Provider as unknown as { ctx?: object }).ctx;

/** Routes that, after reading a token, look up the person it was issued for. */
const READS_THE_PERSON = new Set(['token', 'userinfo']);

const routeOf = (request: object): string | undefined => (request as { oidc?: { route?: string } }).oidc?.route;

/**
 * oidc-provider's storage: one `oidc_models` table for every model, clients
 * from `clients`. `trackRequest` goes into oidc-provider's middleware so that
 * a request's writes reach the database together (src/oidc/request-writes.ts).
 */
export function createModelStorage(db: Database, clients: ClientQueries, sealer: Sealer) {
  const run = createStatementRunner(db);
  const lookUp = createModelLookup(run);
  const writes = createRequestWrites(db, run, createRefreshReuse(run, sealer));
  const prefetch = createRequestPrefetch();

  class ModelAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Grant') prefetch.forgetGrant(currentRequest(), id);
      if (this.model === 'Session') prefetch.forgetSessions(currentRequest());
      await writes.write(currentRequest(), {
        kind: 'upsert',
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grantId: payload.grantId ?? null,
        userCode: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const request = currentRequest();
      await writes.flush(request);
      if (this.model === 'Grant') {
        const prefetched = prefetch.takeGrant(request, id);
        if (prefetched.found) return prefetched.value;
      }
      // Outside oidc-provider's requests (NetID's own pages, commands) there is nothing to share a read with.
      if (!request) return toPayload((await run<ModelRow>(statements.find, [this.model, id])).rows[0], this.model);
      const grantBound = GRANT_BOUND.has(this.model);
      const row = await lookUp(this.model, id, grantBound && READS_THE_PERSON.has(routeOf(request) ?? ''));
      if (row?.grant_id && grantBound) prefetch.putGrant(request, row.grant_id, row.grant_payload ?? undefined);
      const sessionUid = row && grantBound ? boundSessionUid(row) : undefined;
      if (sessionUid) prefetch.putSession(request, sessionUid, row!.session_payload ?? undefined);
      const profileId = row?.payload.accountId;
      if (row?.claims && typeof profileId === 'string') {
        prefetch.putClaims(request, profileId, row.claims.accountId, row.claims.source ?? undefined);
      }
      return toPayload(row, this.model);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const request = currentRequest();
      await writes.flush(request);
      if (this.model === 'Session') {
        const prefetched = prefetch.takeSession(request, uid);
        if (prefetched.found) return prefetched.value;
      }
      return toPayload((await run<ModelRow>(statements.findByUid, [this.model, uid])).rows[0], this.model);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      await writes.flush(currentRequest());
      return toPayload((await run<ModelRow>(statements.findByUserCode, [this.model, userCode])).rows[0], this.model);
    }

    async consume(id: string): Promise<void> {
      await writes.write(currentRequest(), { kind: 'consume', model: this.model, id });
    }

    async destroy(id: string): Promise<void> {
      if (this.model === 'Grant') prefetch.forgetGrant(currentRequest(), id);
      if (this.model === 'Session') prefetch.forgetSessions(currentRequest());
      await writes.flush(currentRequest());
      await run(statements.destroy, [this.model, id]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      prefetch.forgetGrant(currentRequest(), grantId);
      await writes.flush(currentRequest());
      // Codes and tokens issued under the grant go at once; oidc-provider destroys the Grant row itself.
      await run(statements.revokeByGrantId, [grantId]);
    }
  }

  class ClientAdapter implements Adapter {
    async upsert(): Promise<void> {
      throw new Error('clients are registered with the NetID command line, not through oidc-provider');
    }
    async find(id: string): Promise<AdapterPayload | undefined> {
      return (await clients.findMetadata(id)) as AdapterPayload | undefined;
    }
    async findByUid(): Promise<undefined> {
      return undefined;
    }
    async findByUserCode(): Promise<undefined> {
      return undefined;
    }
    async consume(): Promise<void> {}
    async destroy(): Promise<void> {}
    async revokeByGrantId(): Promise<void> {}
  }

  return {
    adapterFor(model: string): Adapter {
      return model === 'Client' ? new ClientAdapter() : new ModelAdapter(model);
    },
    trackRequest: writes.trackRequest,
    /** The claims read with the token this request presented, if they were (src/oidc/request-prefetch.ts). */
    takePrefetchedClaims: prefetch.takeClaims,
  };
}

/** Deletes expired rows in batches so one run never holds a long lock. Returns how many went. */
export async function deleteExpiredModels(db: Database, batchSize = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db.raw(
      // By ctid: matching the batch on (model, id) made PostgreSQL scan the whole table for every
      // batch (150 ms per 5,000 rows at 360,000 rows, growing with the table); a TID scan takes 8 ms.
      // The rows are locked by the same statement, so their ctids hold. skip locked: every instance
      // of a fleet runs this job, and two of them must not queue up on the same rows.
      `delete from oidc_models where ctid = any(array(
         select ctid from oidc_models where expires_at < now() limit ? for update skip locked
       ))`,
      [batchSize],
    );
    const deleted = Number(result.rowCount ?? result.affectedRows ?? 0);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
