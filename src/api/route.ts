import type { Context } from 'koa';
import type { z } from 'zod';
import type { NetidContext } from '../context.js';
import type { Actor } from '../db/audit.js';
import type { Caller } from './access-token.js';
import type { Answer } from './idempotency.js';
import type { RouteId } from './permissions.js';
import { refusalProblem } from './problems.js';
import type { Refusal } from '../outcome.js';

/** What a route's handler is given: its checked inputs, who calls, and NetID. */
export interface RouteInput<P, Q, B> {
  ctx: Context;
  context: NetidContext;
  caller: Caller;
  actor: Actor;
  params: P;
  query: Q;
  body: B;
  /** For an account's route: the account the path names, once the caller may act on it. */
  accountId: string;
}

/**
 * One route of the management API: its address, what it takes (zod schemas,
 * which both validate requests and make the OpenAPI document), what it
 * answers, and its handler, which parses nothing and decides nothing itself:
 * it calls a service and shapes the answer. Who may call it is in
 * ROUTE_ACCESS, under `id`.
 */
export interface ApiRoute<P = unknown, Q = unknown, B = unknown> {
  id: RouteId;
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Under /api/v1, with OpenAPI's `{name}` parameters. */
  path: string;
  summary: string;
  description?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The successful answers, by status; a schema for those with a JSON body. */
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /** The problem statuses this route can answer with besides those every route can (400, 401, 403). */
  problems?: number[];
  handle(input: RouteInput<P, Q, B>): Promise<Answer>;
}

/** Keeps a route's parameter, query and body types tied to its schemas. */
export function defineRoute<P extends z.ZodObject | undefined = undefined, Q extends z.ZodObject | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  route: Omit<ApiRoute, 'params' | 'query' | 'body' | 'handle'> & {
    params?: P;
    query?: Q;
    body?: B;
    handle(
      input: RouteInput<P extends z.ZodObject ? z.output<P> : undefined, Q extends z.ZodObject ? z.output<Q> : undefined, B extends z.ZodType ? z.output<B> : undefined>,
    ): Promise<Answer>;
  },
): ApiRoute {
  return route as unknown as ApiRoute;
}

/**
 * A rule's Outcome for a handler: its value, or the refusal thrown as the
 * problem it is. A rule names the input it refuses as the command line does
 * (`scope`); `fields` gives the body's name for it (`scopes`), so the
 * problem's pointer points into what the caller sent.
 */
export function settled<T extends { ok: boolean }>(outcome: T, fields: Record<string, string> = {}): Extract<T, { ok: true }> {
  if (!outcome.ok) {
    const refusal = outcome as unknown as Refusal<string>;
    throw refusalProblem(refusal.field && fields[refusal.field] ? { ...refusal, field: fields[refusal.field] } : refusal);
  }
  return outcome as Extract<T, { ok: true }>;
}
