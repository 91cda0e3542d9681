import type { Sealer } from '../security/sealing.js';
import type { Database } from './database.js';

/** A write's answer kept under its Idempotency-Key, with what identifies the request it answered. */
export interface StoredAnswer {
  method: string;
  path: string;
  requestHash: string;
  status: number;
  body: unknown;
}

export function createIdempotencyQueries(db: Database, sealer: Sealer) {
  return {
    /** Takes the key for this request, waiting for a concurrent holder to finish; false when it was already taken. */
    async claim(caller: string, key: string, request: { method: string; path: string; requestHash: string }): Promise<boolean> {
      const inserted = await db('idempotency_keys')
        .insert({
          caller,
          key,
          method: request.method,
          path: request.path,
          request_hash: request.requestHash,
          status: 0,
          response_sealed: '',
        })
        .onConflict(['caller', 'key'])
        .ignore()
        .returning('key');
      return inserted.length > 0;
    },

    async find(caller: string, key: string): Promise<StoredAnswer | undefined> {
      const row = await db('idempotency_keys')
        .where({ caller, key })
        .first<{ method: string; path: string; request_hash: string; status: number; response_sealed: string } | undefined>();
      if (!row || !row.response_sealed) return undefined;
      return {
        method: row.method,
        path: row.path,
        requestHash: row.request_hash,
        status: row.status,
        body: JSON.parse(sealer.open(row.response_sealed)),
      };
    },

    async store(caller: string, key: string, answer: { status: number; body: unknown }): Promise<void> {
      await db('idempotency_keys')
        .where({ caller, key })
        .update({ status: answer.status, response_sealed: sealer.seal(JSON.stringify(answer.body ?? null)) });
    },

    /** Forgets a claim whose write failed, so a retry runs afresh. */
    async release(caller: string, key: string): Promise<void> {
      await db('idempotency_keys').where({ caller, key }).delete();
    },
  };
}

/** How long a retry with the same Idempotency-Key gets the first answer. */
export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;

export async function deleteOldIdempotencyKeys(db: Database, olderThan = new Date(Date.now() - IDEMPOTENCY_WINDOW_SECONDS * 1000)): Promise<number> {
  const result = await db.raw('delete from idempotency_keys where created_at < ?', [olderThan]);
  return Number(result.rowCount ?? result.affectedRows ?? 0);
}

export type IdempotencyQueries = ReturnType<typeof createIdempotencyQueries>;
