import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { Queries } from '../db/queries.js';
import type { Caller } from './access-token.js';
import { ApiProblem } from './problems.js';

/** What a route answers: a status, a JSON body, headers. */
export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

// Printable ASCII, as most clients make keys (UUIDs, random strings).
const KEY = /^[\x21-\x7E]{1,255}$/;

/**
 * A write sent with an `Idempotency-Key` header is answered once: a retry
 * with the same key (the same caller, method, path and body) gets the stored
 * answer instead of a second change, and the same key for another request is
 * refused. The key's record is written in the write's own transaction, so
 * either both are stored or neither; a retry while the first is still being
 * answered waits for it. Only answers of changes that were stored are kept:
 * a refused request stores nothing and may be sent again.
 */
export async function answerOnce(ctx: Context, queries: Queries, caller: Caller, body: unknown, run: () => Promise<Answer>): Promise<Answer> {
  const key = ctx.get('Idempotency-Key');
  if (!key) return run();
  if (!KEY.test(key)) throw new ApiProblem('invalid-request', { errors: [{ pointer: 'Idempotency-Key', detail: 'must be 1 to 255 printable ASCII characters' }] });
  const owner = caller.profileId ? `profile:${caller.profileId}` : `client:${caller.clientId}`;
  const request = {
    method: ctx.method,
    path: ctx.path,
    requestHash: createHash('sha256').update(JSON.stringify([ctx.method, ctx.path, body ?? null])).digest('base64url'),
  };
  if (!(await queries.idempotency.claim(owner, key, request))) {
    const stored = await queries.idempotency.find(owner, key);
    if (!stored) throw new ApiProblem('idempotency-key-in-use', { headers: { 'Retry-After': '1' } });
    if (stored.requestHash !== request.requestHash) throw new ApiProblem('idempotency-key-reused');
    return { status: stored.status, body: stored.body, headers: { 'Idempotent-Replayed': 'true' } };
  }
  const answer = await run();
  await queries.idempotency.store(owner, key, { status: answer.status, body: answer.body });
  return answer;
}
