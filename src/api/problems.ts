import type { Context } from 'koa';
import { ACCOUNT_PROBLEMS } from '../accounts/account-service.js';
import { MEMBERSHIP_PROBLEMS } from '../accounts/membership-service.js';
import { CLIENT_PROBLEMS } from '../clients/client-service.js';
import { translator, type MessageKey } from '../i18n/messages.js';
import { KEY_PROBLEMS } from '../oidc/key-service.js';
import type { ProblemDescription, Refusal } from '../outcome.js';
import { PROFILE_PROBLEMS } from '../profile/profile-service.js';
import { RESOURCE_SERVER_PROBLEMS } from '../resource-servers/resource-server-service.js';

/** Problems of the API itself (the request, not a rule), each told as a rule's problem is. */
const API_PROBLEMS = {
  'invalid-request': { status: 400, title: 'The request is not valid' },
  'unauthorized': { status: 401, title: 'An access token for the management API is required' },
  'forbidden': { status: 403, title: 'This access token may not do this' },
  'insufficient-scope': { status: 403, title: 'This access token lacks the scope this needs' },
  'not-found': { status: 404, title: 'There is nothing at this address' },
  'method-not-allowed': { status: 405, title: 'This address does not take this method' },
  'idempotency-key-in-use': { status: 409, title: 'A request with this Idempotency-Key is still being answered' },
  'idempotency-key-reused': { status: 422, title: 'This Idempotency-Key was used for another request' },
  'body-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be application/json' },
  'server-error': { status: 500, title: 'NetID could not complete the request' },
  'temporarily-unavailable': { status: 503, title: 'NetID cannot reach its database right now' },
} as const;

export type ApiProblemName = keyof typeof API_PROBLEMS;

const english = translator('en');

/** Every problem the API can answer with: its own and every rule's, by name. */
export const PROBLEM_CATALOGUE: Record<string, { status: number; title: string }> = {
  ...API_PROBLEMS,
  ...Object.fromEntries(
    Object.entries<ProblemDescription>({
      ...PROFILE_PROBLEMS,
      ...ACCOUNT_PROBLEMS,
      ...MEMBERSHIP_PROBLEMS,
      ...CLIENT_PROBLEMS,
      ...RESOURCE_SERVER_PROBLEMS,
      ...KEY_PROBLEMS,
    }).map(([name, { status, messageKey }]) => [name, { status, title: english(messageKey) }]),
  ),
};

/** One input that was wrong: where (a JSON Pointer into the body, or the parameter's name) and why. */
export interface FieldError {
  pointer: string;
  detail: string;
}

/** An RFC 9457 problem document as the API sends it. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
}

/** Thrown anywhere under /api/v1 to answer with a problem document. */
export class ApiProblem extends Error {
  constructor(
    readonly problem: string,
    readonly extra: { detail?: string | undefined; errors?: FieldError[] | undefined; headers?: Record<string, string> } = {},
  ) {
    super(problem);
  }
}

/** The problem's type URI: its entry on the problems page, which lists them all. */
export const problemType = (issuer: string, name: string) => `${issuer}/api/v1/problems#${name}`;

/** Turns a rule's refusal into the problem the API answers with. */
export function refusalProblem(refusal: Refusal<string>): ApiProblem {
  const errors: FieldError[] = [
    ...(refusal.field && refusal.detail ? [{ pointer: `/${refusal.field}`, detail: refusal.detail }] : []),
    ...Object.entries(refusal.fields ?? {}).map(([field, key]) => ({ pointer: `/${field}`, detail: english(key as MessageKey) })),
  ];
  return new ApiProblem(refusal.problem, {
    detail: refusal.detail,
    errors: errors.length ? errors : undefined,
    headers: refusal.retryAfterSeconds ? { 'Retry-After': String(refusal.retryAfterSeconds) } : undefined,
  });
}

export function sendProblem(ctx: Context, issuer: string, problem: ApiProblem): void {
  const known = PROBLEM_CATALOGUE[problem.problem] ?? PROBLEM_CATALOGUE['server-error']!;
  for (const [name, value] of Object.entries(problem.extra.headers ?? {})) ctx.set(name, value);
  const document: ProblemDocument = {
    type: problemType(issuer, problem.problem),
    title: known.title,
    status: known.status,
    ...(problem.extra.detail ? { detail: problem.extra.detail } : {}),
    ...(problem.extra.errors?.length ? { errors: problem.extra.errors } : {}),
  };
  ctx.status = known.status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = document;
  ctx.type = 'application/problem+json';
}
