import type { Context, Next } from 'koa';
import { errors } from 'oidc-provider';
import type { Database } from '../db/database.js';
import { preparedStatement, usesPgDriver, type PreparedStatement, type StatementRunner } from '../db/prepared-statements.js';
import { createGroupedWrites } from './grouped-writes.js';

/** The first use of a code or token: only one request may ever make it. */
export interface ConsumeWrite {
  kind: 'consume';
  model: string;
  id: string;
  /** Sealed, kept on the row in the same statement: the answer given for this use (src/oidc/refresh-reuse.ts). */
  keep?: string | null;
}

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
  | ConsumeWrite;

export type UpsertWrite = Extract<ModelWrite, { kind: 'upsert' }>;

const UPSERT_ROWS = `insert into oidc_models (model, id, payload, grant_id, user_code, uid, expires_at)
       select * from unnest(?::text[], ?::text[], ?::jsonb[], ?::text[], ?::text[], ?::text[], ?::timestamptz[])`;
const ON_CONFLICT = `on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
         user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`;

export const writeStatements = {
  upsert: preparedStatement(
    'model_upsert',
    `insert into oidc_models (model, id, payload, grant_id, user_code, uid, expires_at) values (?, ?, ?, ?, ?, ?, ?)
     on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
       user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
  ),
  // Only the first use counts: a later one must not restart the refresh-token reuse window nor replace what it kept.
  consume: preparedStatement(
    'model_consume',
    'update oidc_models set consumed_at = now(), reuse_response_sealed = ? where model = ? and id = ? and consumed_at is null',
  ),
  /** Upserts of distinct rows as one statement, one round trip and one commit. */
  upserts: preparedStatement('model_upsert_batch', `${UPSERT_ROWS}\n       ${ON_CONFLICT}`),
};

/** At most this many requests' consumes in one statement: a prepared statement for each count up to it. */
export const MAX_CONSUMES = 8;

/**
 * The consumes of `requests` requests and the upserts each made, as one
 * statement: one round trip and one commit, and a request's upserts happen
 * only if its consume did. A request that lost its consume to another
 * (which waited here for that one to commit) stores none of what it minted.
 * Rows must be distinct because the parts of one statement all see the
 * table as it was before it. Each consume names its row by key, in a part of
 * its own, never by a join with a list: a plan made while the table was
 * small would read all of it. Answers whether each request's consume was
 * made, as columns c1, c2, ...
 */
export function writeBatchStatement(requests: number): PreparedStatement {
  const parts = Array.from({ length: requests }, (_, index) => index + 1);
  const consumes = parts.map(
    (n) => `c${n} as (
       update oidc_models set consumed_at = now(), reuse_response_sealed = ?
        where model = ? and id = ? and consumed_at is null
       returning 1
     )`,
  );
  return preparedStatement(
    `model_write_batch_${requests}`,
    `with ${consumes.join(', ')}, upserted as (
       insert into oidc_models (model, id, payload, grant_id, user_code, uid, expires_at)
       select u.model, u.id, u.payload, u.grant_id, u.user_code, u.uid, u.expires_at
         from unnest(?::text[], ?::text[], ?::jsonb[], ?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::int[])
              as u(model, id, payload, grant_id, user_code, uid, expires_at, request)
        where case u.request ${parts.map((n) => `when ${n} then exists (select 1 from c${n})`).join(' ')} else false end
       ${ON_CONFLICT}
     )
     select ${parts.map((n) => `(select count(*)::int from c${n}) as c${n}`).join(', ')}`,
  );
}

const isConsume = (write: ModelWrite): write is ConsumeWrite => write.kind === 'consume';
const isUpsert = (write: ModelWrite): write is UpsertWrite => write.kind === 'upsert';

const consumeValues = (write: ConsumeWrite): unknown[] => [write.keep ?? null, write.model, write.id];

const upsertValues = (write: UpsertWrite): unknown[] => [
  write.model,
  write.id,
  write.payload,
  write.grantId,
  write.userCode,
  write.uid,
  write.expiresAt,
];

/** The upserts as columns, for unnest. */
function upsertColumns(upserts: UpsertWrite[]): unknown[] {
  return [
    upserts.map((write) => write.model),
    upserts.map((write) => write.id),
    upserts.map((write) => write.payload),
    upserts.map((write) => write.grantId),
    upserts.map((write) => write.userCode),
    upserts.map((write) => write.uid),
    upserts.map((write) => write.expiresAt),
  ];
}

const affectedRows = (result: { rowCount?: number | null; affectedRows?: number }) => Number(result.rowCount ?? result.affectedRows ?? 0);

const rowOf = (write: ModelWrite) => `${write.model}\u0000${write.id}`;

/** A request's consume and the upserts that stand or fall with it. */
interface ConsumeGroup {
  consume: ConsumeWrite;
  upserts: UpsertWrite[];
}

const writeBatches = Array.from({ length: MAX_CONSUMES }, (_, index) => writeBatchStatement(index + 1));

/** The pg driver's writes of the requests of one event-loop round, together (src/oidc/grouped-writes.ts). */
function createGroupedRequestWrites(run: StatementRunner) {
  return {
    upsert: createGroupedWrites<UpsertWrite[], void>({
      rowsOf: (upserts) => upserts.map(rowOf),
      maxGroups: 64,
      maxRows: 128,
      async write(groups) {
        await run(writeStatements.upserts, upsertColumns(groups.flat()));
        return groups.map(() => undefined);
      },
    }),
    /** True when the request's consume was made, and with it its upserts. */
    consumeAndUpsert: createGroupedWrites<ConsumeGroup, boolean>({
      rowsOf: (group) => [group.consume, ...group.upserts].map(rowOf),
      maxGroups: MAX_CONSUMES,
      maxRows: 128,
      async write(groups) {
        const upserts = groups.flatMap((group, index) => group.upserts.map((upsert) => ({ upsert, request: index + 1 })));
        const result = await run<Record<string, number>>(writeBatches[groups.length - 1]!, [
          ...groups.flatMap((group) => consumeValues(group.consume)),
          ...upsertColumns(upserts.map((entry) => entry.upsert)),
          upserts.map((entry) => entry.request),
        ]);
        const row = result.rows[0]!;
        return groups.map((_, index) => row[`c${index + 1}`]! > 0);
      },
    }),
  };
}

/** oidc-provider's own answer to a code or token presented again, as it gives when it sees the first use itself. */
function alreadyUsed(consume: ConsumeWrite): Error {
  if (consume.model === 'PushedAuthorizationRequest') {
    return new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
  }
  return new errors.InvalidGrant(`${consume.model} already used`);
}

/** What the owner of the requests adds around their consumes (src/oidc/refresh-reuse.ts). */
export interface ConsumeAnswers {
  /** Once the request has its answer: what to keep, sealed, on the row it consumes, or null. */
  keep(ctx: Context, consume: ConsumeWrite): string | null;
  /** For a request that lost its consume: gives the answer kept by the one that won, if any; true if it did. */
  answerAgain(ctx: Context, consume: ConsumeWrite): Promise<boolean>;
}

interface RequestWrites {
  pending: ModelWrite[];
  /** Settles when every write taken so far has reached the database. */
  written: Promise<void>;
  /** The consume this request lost to another request, which then stored nothing else of this one's. */
  lost?: { consume: ConsumeWrite; error: Error };
}

/**
 * Writes oidc-provider makes while answering a request reach the database
 * together, before the answer leaves: a refresh consumes the old refresh
 * token and stores a new one and an access token, which were three round
 * trips and three commits and are now one, atomic. Reads in the same request
 * first write what is pending, so oidc-provider always reads its own writes;
 * deletions are rare and go at once, after what is pending. A consume is
 * conditional: of two requests presenting one code or token at the same
 * moment, exactly one consumes it, and the other's tokens are never stored
 * nor handed out.
 */
export function createRequestWrites(db: Database, run: StatementRunner, answers: ConsumeAnswers) {
  const requests = new WeakMap<object, RequestWrites>();
  const pgDriver = usesPgDriver(db);
  // Only the pg driver takes arrays for unnest; the embedded database writes each request's rows alone.
  const grouped = pgDriver ? createGroupedRequestWrites(run) : undefined;

  /** Returns false when the writes held a consume that another request had already made: then nothing was written. */
  async function writeNow(writes: ModelWrite[]): Promise<boolean> {
    const consume = writes.find(isConsume);
    const upserts = writes.filter(isUpsert);
    if (!upserts.length) return consume ? (await run(writeStatements.consume, consumeValues(consume))).rowCount > 0 : true;
    if (grouped) return consume ? grouped.consumeAndUpsert({ consume, upserts }) : (await grouped.upsert(upserts), true);
    if (!consume && upserts.length === 1) {
      await run(writeStatements.upsert, upsertValues(upserts[0]!));
      return true;
    }
    return writeInTransaction(consume, upserts);
  }

  // The embedded database keeps knex, which spreads arrays into lists; a transaction keeps it all-or-nothing.
  function writeInTransaction(consume: ConsumeWrite | undefined, upserts: UpsertWrite[]): Promise<boolean> {
    return db.transaction(async (trx) => {
      const statement = (write: PreparedStatement, values: unknown[]) => trx.raw(write.sql, values as never);
      // The consume first: when it finds the row already used, nothing else is written.
      if (consume && !affectedRows(await statement(writeStatements.consume, consumeValues(consume)))) return false;
      for (const upsert of upserts) await statement(writeStatements.upsert, upsertValues(upsert));
      return true;
    });
  }

  function flushTracked(request: RequestWrites): Promise<void> {
    const taken = request.pending.splice(0);
    if (taken.length) {
      // A failed earlier flush was reported to whoever awaited it; it must not fail this one too.
      request.written = request.written
        .catch(() => undefined)
        .then(async () => {
          if (await writeNow(taken)) return;
          const consume = taken.find(isConsume)!;
          request.lost = { consume, error: alreadyUsed(consume) };
          // Thrown in the middle of a request, oidc-provider's own error handler answers it.
          throw request.lost.error;
        });
    }
    return request.written;
  }

  return {
    /** Writes at once outside a tracked request; otherwise waits for the end of it (or the next read). */
    async write(request: object | undefined, write: ModelWrite): Promise<void> {
      const tracked = request && requests.get(request);
      // Outside a request a consume of a used row changes nothing, which is all oidc-provider asks of it.
      if (!tracked) return void (await writeNow([write]));
      // Two writes of one row, or two consumes, cannot share a statement: the earlier ones go first.
      if (tracked.pending.some((queued) => (queued.model === write.model && queued.id === write.id) || (isConsume(queued) && isConsume(write)))) {
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
     * pending before the answer goes out. If that fails, the answer becomes an
     * error: a client must never hold a token that was not stored. A request
     * that lost its consume answers as the winner did when that answer was
     * kept, and with oidc-provider's error otherwise.
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
      const consume = tracked.pending.find(isConsume);
      if (consume && !failure) consume.keep = answers.keep(ctx, consume);
      const lostBefore = tracked.lost;
      let unwritten: { error: unknown } | undefined;
      try {
        await flushTracked(tracked);
      } catch (error) {
        // A consume lost in the middle of the request was answered there, by oidc-provider.
        if (error !== lostBefore?.error) {
          // A redirect carrying a code that was not stored must not be followed.
          ctx.remove('Location');
          unwritten = { error };
        }
      }
      if (tracked.lost && (await answers.answerAgain(ctx, tracked.lost.consume))) return;
      if (unwritten) throw unwritten.error;
      if (failure) throw failure.error;
    },
  };
}
