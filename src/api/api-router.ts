import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { z } from 'zod';
import type { NetidContext } from '../context.js';
import { runInTransaction } from '../db/queries.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { createTokenVerifier } from './access-token.js';
import { apiIdentifier } from './api-resource-server.js';
import { answerOnce, type Answer } from './idempotency.js';
import { buildOpenApiDocument } from './openapi.js';
import { authorize, ROUTE_ACCESS } from './permissions.js';
import { ApiProblem, sendProblem, type FieldError } from './problems.js';
import { registerReferencePages } from './reference-pages.js';
import type { ApiRoute } from './route.js';
import { accountRoutes } from './routes/accounts.js';
import { auditRoutes } from './routes/audit.js';
import { clientRoutes } from './routes/clients.js';
import { keyRoutes } from './routes/keys.js';
import { memberRoutes } from './routes/members.js';
import { profileRoutes } from './routes/profiles.js';
import { resourceServerRoutes } from './routes/resource-servers.js';

/** Every route of the management API, in the order the document lists them. */
export const API_ROUTES: ApiRoute[] = [
  ...accountRoutes,
  ...memberRoutes,
  ...clientRoutes,
  ...resourceServerRoutes,
  ...profileRoutes,
  ...auditRoutes,
  ...keyRoutes,
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks one part of a request against its schema; each problem names where it is (a JSON Pointer, or the parameter). */
function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'path' | 'query' | 'body'): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const errors: FieldError[] = parsed.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const at = [...issue.path.map(String), ...(keys.length === 1 ? keys : [])];
    return {
      pointer: where === 'body' ? `/${at.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}` : at.join('.') || where,
      detail: issue.code === 'unrecognized_keys' ? `is not a field this request takes: ${keys.join(', ')}` : issue.message,
    };
  });
  throw new ApiProblem('invalid-request', { errors });
}

/** Bad bodies from the JSON parser, and failures anywhere, as problem documents; never a stack trace. */
function problems(context: NetidContext): Middleware {
  const { issuer } = context.config;
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new ApiProblem('not-found');
    } catch (error) {
      if (error instanceof ApiProblem) return sendProblem(ctx, issuer, error);
      const status = (error as { status?: number }).status;
      if (status === 413) return sendProblem(ctx, issuer, new ApiProblem('body-too-large'));
      if (status === 415) return sendProblem(ctx, issuer, new ApiProblem('unsupported-media-type'));
      if (status === 405) return sendProblem(ctx, issuer, new ApiProblem('method-not-allowed'));
      if (status && status >= 400 && status < 500) return sendProblem(ctx, issuer, new ApiProblem('invalid-request', { detail: 'the body is not valid JSON' }));
      if (isDatabaseUnavailable(error)) {
        context.logger.warn({ err: error, path: ctx.path }, 'database unavailable');
        return sendProblem(ctx, issuer, new ApiProblem('temporarily-unavailable', { headers: { 'Retry-After': '5' } }));
      }
      context.logger.error({ err: error, method: ctx.method, path: ctx.path }, 'management API request failed');
      sendProblem(ctx, issuer, new ApiProblem('server-error'));
    }
  };
}

/**
 * The management API under /api/v1: JSON in and out, each call with an
 * access token NetID issued for its resource indicator, each route checked
 * against its zod schemas and ROUTE_ACCESS before its handler runs, each
 * write run in one transaction (with its Idempotency-Key, if sent).
 */
export function createApiRouter(context: NetidContext, routes: ApiRoute[] = API_ROUTES): Router {
  const { issuer } = context.config;
  const router = new Router({ prefix: '/api/v1' });
  const verify = createTokenVerifier({ issuer, audience: apiIdentifier(issuer), keys: context.jwks.keys, provider: context.provider });
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '64kb', jsonStrict: true, encoding: 'utf-8' }) as Middleware;
  let document: object | undefined;

  router.use(problems(context));
  router.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  });
  registerReferencePages(router, { views: context.views, document: () => (document ??= buildOpenApiDocument(issuer, routes)) });

  /** The account an account's route names, by id or by name; undefined for one that does not exist. */
  async function accountNamed(reference: string): Promise<string | undefined> {
    const account = UUID.test(reference) ? await context.queries.accounts.findById(reference.toLowerCase()) : await context.queries.accounts.findByName(reference);
    return account?.id;
  }

  for (const route of routes) {
    const access = ROUTE_ACCESS[route.id];
    const handler = async (ctx: Context) => {
      const caller = await verify(ctx);
      const params = route.params ? parse(route.params, ctx.params, 'path') : {};
      const query = route.query ? parse(route.query, ctx.query, 'query') : {};
      if (route.body && ctx.request.length && !ctx.is('application/json')) throw new ApiProblem('unsupported-media-type');
      const body = route.body ? parse(route.body, ctx.request.body ?? {}, 'body') : undefined;
      const accountId = access === 'account-admin' ? await accountNamed(String((params as { account?: string }).account ?? '')) : undefined;
      await authorize(context.queries, caller, access, accountId);
      if (access === 'account-admin' && !accountId) throw new ApiProblem('account-not-found');
      const run = (): Promise<Answer> =>
        route.handle({ ctx, context, caller, actor: caller.actor, params, query, body, accountId: accountId ?? '' } as Parameters<ApiRoute['handle']>[0]);
      const answer = route.method === 'get' ? await run() : await runInTransaction(context.queries, (queries) => answerOnce(ctx, queries, caller, body, run));
      for (const [name, value] of Object.entries(answer.headers ?? {})) ctx.set(name, value);
      ctx.set('Cache-Control', 'no-store');
      ctx.status = answer.status;
      if (answer.body !== undefined) ctx.body = answer.body;
    };
    const path = route.path.replace(/\{(\w+)\}/g, ':$1');
    if (route.body || route.method !== 'get') router[route.method](route.id, path, json, handler);
    else router[route.method](route.id, path, handler);
  }
  // Anything else under /api/v1: a known address with another method, or nothing at all.
  router.all('/{*rest}', (ctx) => {
    const allowed = router
      .match(ctx.path, ctx.method)
      .path.filter((layer) => !String(layer.path).includes('{*rest}'))
      .flatMap((layer) => layer.methods);
    if (allowed.length) throw new ApiProblem('method-not-allowed', { headers: { Allow: [...new Set(allowed)].join(', ') } });
    throw new ApiProblem('not-found');
  });
  return router;
}
