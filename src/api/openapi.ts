import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { API_SCOPES, ROUTE_ACCESS, scopeOf } from './permissions.js';
import type { ApiRoute } from './route.js';
import { ProblemSchema } from './schemas.js';

/** What each problem status means, as the document says it. */
const PROBLEM_STATUSES: Record<number, string> = {
  400: 'The request is not valid: a parameter or the body is malformed, of the wrong type, or has unknown fields',
  401: 'No access token, or one that is not valid for this API',
  403: 'The access token may not do this: a missing scope, or an account it may not manage',
  404: 'Nothing of that name or id',
  409: "A rule refuses the change (the last admin, an account renamed once already, an account's own client, NetID's own client or API, a key rotation step out of order), or a request with the same Idempotency-Key is still being answered",
  413: 'The body is larger than 64 kB',
  415: 'The body is not application/json',
  422: 'The Idempotency-Key was used for another request',
  503: 'NetID cannot reach its database right now; retry after the Retry-After seconds',
};

/** The header every write takes, so that a back end can retry it safely. */
const IDEMPOTENCY_HEADER = z.object({
  'idempotency-key': z
    .string()
    .max(255)
    .optional()
    .meta({ description: 'A retry with the same key gets the first answer instead of a second change (24 hours)' }),
});

const EVERY_ROUTE = [400, 401, 403, 503];
const EVERY_WRITE = [409, 413, 415, 422];

/** Every problem status a route can answer with. */
export function problemStatuses(route: ApiRoute): number[] {
  return [...new Set([...EVERY_ROUTE, ...(route.method === 'get' ? [] : EVERY_WRITE), ...(route.problems ?? [])])].sort((a, b) => a - b);
}

/**
 * The OpenAPI 3.1 document of the management API, made from the same zod
 * schemas that check each request, so the two cannot drift apart.
 */
export function buildOpenApiDocument(issuer: string, routes: ApiRoute[]): object {
  const registry = new OpenAPIRegistry();
  const scopes = {
    [API_SCOPES.accountAdmin]: "Manage one account: its back end's own, or one where the person signed in is an active admin",
    [API_SCOPES.operator]: 'Run the installation (operator service clients only)',
  };
  registry.registerComponent('securitySchemes', 'netid', {
    type: 'oauth2',
    description:
      `Access tokens NetID issues for the resource indicator ${issuer}/api (RFC 8707): send resource=${issuer}/api to the token endpoint. ` +
      'Bearer or DPoP-bound (RFC 9449) tokens are accepted.',
    flows: {
      clientCredentials: { tokenUrl: `${issuer}/token`, scopes },
      authorizationCode: { authorizationUrl: `${issuer}/auth`, tokenUrl: `${issuer}/token`, scopes },
    },
  });

  for (const route of routes) {
    const responses: RouteConfig['responses'] = {};
    for (const [status, answer] of Object.entries(route.responses)) {
      responses[status] = answer.schema ? { description: answer.description, content: { 'application/json': { schema: answer.schema } } } : { description: answer.description };
    }
    for (const status of problemStatuses(route)) {
      responses[String(status)] = { description: PROBLEM_STATUSES[status] ?? 'A problem', content: { 'application/problem+json': { schema: ProblemSchema } } };
    }
    registry.registerPath({
      method: route.method,
      path: `/api/v1${route.path}`,
      operationId: route.id,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      security: [{ netid: [scopeOf(ROUTE_ACCESS[route.id])] }],
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        // A body whose every field may be left out may be left out as a whole.
        ...(route.body ? { body: { required: !route.body.safeParse({}).success, content: { 'application/json': { schema: route.body } } } } : {}),
        ...(route.method === 'get' ? {} : { headers: IDEMPOTENCY_HEADER }),
      },
      responses,
    });
  }

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'NetID management API',
      version: '1',
      description:
        'Manage Bitrix24 accounts (members, invitations, dismissal, rename) as their admins or back ends, and the installation (clients, resource servers, profiles, the audit trail, signing keys) as an operator. ' +
        `Errors are RFC 9457 problem documents; each problem's type is described at ${issuer}/api/v1/problems.`,
    },
    servers: [{ url: issuer }],
  });
}

