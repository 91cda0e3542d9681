import type { Context, Next } from 'koa';
import type { Database } from '../db/database.js';
import { preparedStatement, usesPgDriver, type PreparedStatement, type StatementRunner } from '../db/prepared-statements.js';

/** A write oidc-provider asked of oidc_models. */
export type ModelWrite =
  | {
      kind: 'upsert';
      model: string;
      id: string;
      /** JSON text of the payload. */
      payload: string;
      grantId: string | null;
      userCode: string | null;
      uid: string | null;
      expiresAt: Date | null;
    }
  | { kind: 'consume'; model: string; id: string };

export const writeStatements = {
  upsert: preparedStatement(
    'model_upsert',
    `insert into oidc_models (model, id, payload, grant_id, user_code, uid, expires_at) values (?, ?, ?, ?, ?, ?, ?)
     on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
       user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
  ),
  // Only the first use counts: a later one must not restart the refresh-token reuse window.
  consume: preparedStatement('model_consume', 'update oidc_models set consumed_at = now() where model = ? and id = ? and consumed_at is null'),
  /**
   * At most one consume and any number of upserts of distinct rows as one
   * statement: one round trip and one commit, all of them or none. Rows must
   * be distinct because the parts of one statement all see the table as it
   * was before it. The consume names its row by key, never by a join with a
   * list: a plan made while the table was small would read all of it.
   */
  batch: preparedStatement(
    'model_write_batch',
    `with consumed as (
       update oidc_models set consumed_at = now() where model = ? and id = ? and consumed_at is null
     ), upserted as (
       insert into oidc_models (model, id, payload, grant_id, user_code, uid, expires_at)
       select * from unnest(?::text[], ?::text[], ?::jsonb[], ?::text[], ?::text[], ?::text[], ?::timestamptz[])
       on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
         user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at
     )
     select 1`,
  ),
};

function singleStatement(write: ModelWrite): [PreparedStatement, unknown[]] {
  if (write.kind === 'consume') return [writeStatements.consume, [write.model, write.id]];
  return [
    writeStatements.upsert,
    [write.model, write.id, write.payload, write.grantId, write.userCode, write.uid, write.expiresAt],
  ];
}

function batchValues(writes: ModelWrite[]): unknown[] {
  const consume = writes.find((write) => write.kind === 'consume');
  const upserts = writes.filter((write) => write.kind === 'upsert');
  return [
    consume?.model ?? null,
    consume?.id ?? null,
    upserts.map((write) => write.model),
    upserts.map((write) => write.id),
    upserts.map((write) => write.payload),
    upserts.map((write) => write.grantId),
    upserts.map((write) => write.userCode),
    upserts.map((write) => write.uid),
    upserts.map((write) => write.expiresAt),
  ];
}

interface RequestWrites {
  pending: ModelWrite[];
  /** Settles when every write taken so far has reached the database. */
  written: Promise<void>;
}

/**
 * Writes oidc-provider makes while answering a request reach the database
 * together, before the answer leaves: a refresh consumes the old refresh
 * token and stores a new one and an access token, which were three round
 * trips and three commits and are now one, atomic. Reads in the same request
 * first write what is pending, so oidc-provider always reads its own writes;
 * deletions are rare and go at once, after what is pending.
 */
export function createRequestWrites(db: Database, run: StatementRunner) {
  const requests = new WeakMap<object, RequestWrites>();
  const pgDriver = usesPgDriver(db);

  async function writeNow(writes: ModelWrite[]): Promise<void> {
    if (writes.length === 1) {
      const [statement, values] = singleStatement(writes[0]!);
      await run(statement, values);
    } else if (pgDriver) {
      await run(writeStatements.batch, batchValues(writes));
    } else {
      // The embedded database keeps knex, which spreads arrays into lists; a transaction keeps it all-or-nothing.
      await db.transaction(async (trx) => {
        for (const write of writes) {
          const [statement, values] = singleStatement(write);
          await trx.raw(statement.sql, values as never);
        }
      });
    }
  }

  function flushTracked(request: RequestWrites): Promise<void> {
    const taken = request.pending.splice(0);
    if (taken.length) {
      // A failed earlier flush was reported to whoever awaited it; it must not fail this one too.
      request.written = request.written.catch(() => undefined).then(() => writeNow(taken));
    }
    return request.written;
  }

  return {
    /** Writes at once outside a tracked request; otherwise waits for the end of it (or the next read). */
    async write(request: object | undefined, write: ModelWrite): Promise<void> {
      const tracked = request && requests.get(request);
      if (!tracked) return writeNow([write]);
      // Two writes of one row, or two consumes, cannot share a statement: the earlier ones go first.
      if (
        tracked.pending.some(
          (queued) => (queued.model === write.model && queued.id === write.id) || (queued.kind === 'consume' && write.kind === 'consume'),
        )
      ) {
        await flushTracked(tracked);
      }
      tracked.pending.push(write);
    },

    /** Makes everything the request has written so far visible to reads. */
    async flush(request: object | undefined): Promise<void> {
      const tracked = request && requests.get(request);
      if (tracked) await flushTracked(tracked);
    },

    /**
     * oidc-provider middleware: tracks the request, and writes what it left
     * pending before the answer goes out. If that fails, the answer becomes a
     * server error: a client must never hold a token that was not stored.
     */
    async trackRequest(ctx: Context, next: Next): Promise<void> {
      const tracked: RequestWrites = { pending: [], written: Promise.resolve() };
      requests.set(ctx, tracked);
      let failure: { error: unknown } | undefined;
      try {
        await next();
      } catch (error) {
        // What the request wrote before it failed is kept, as it would be had it gone at once.
        failure = { error };
      }
      // Writes after this point (none are known) go at once.
      requests.delete(ctx);
      try {
        await flushTracked(tracked);
      } catch (error) {
        // A redirect carrying a code that was not stored must not be followed.
        ctx.remove('Location');
        throw error;
      }
      if (failure) throw failure.error;
    },
  };
}
