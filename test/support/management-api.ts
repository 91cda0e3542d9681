import { expect } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import * as oidc from 'openid-client';
import type { RunningNetid } from './netid-server.js';
import { discoverAsClient, signInThroughForms, startAuthorization } from './relying-party.js';
import { UserAgent } from './user-agent.js';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body, if any. */
  body: any;
}

/** The management API's resource indicator on this NetID. */
export const apiResource = (netid: RunningNetid) => `${netid.issuer}/api`;

/** A token for the API by client_credentials, as an account's back end or an operator's service gets one. */
export async function clientApiToken(netid: RunningNetid, client: { clientId: string; clientSecret: string }, scope: string): Promise<string> {
  const config = await discoverAsClient(netid.issuer, client.clientId, client.clientSecret);
  const tokens = await oidc.clientCredentialsGrant(config, { resource: apiResource(netid), scope });
  return tokens.access_token;
}

/** A token for the API for a person who signs in through `client` (an account's own client, say), asking for `scope`. */
export async function personApiToken(
  netid: RunningNetid,
  client: { clientId: string; clientSecret: string; redirectUri: string },
  person: { email: string; password: string },
  scope = 'openid account:admin',
): Promise<string> {
  const config = await discoverAsClient(netid.issuer, client.clientId, client.clientSecret);
  const pending = await startAuthorization(config, client.redirectUri, { scope, resource: apiResource(netid) });
  const callback = await signInThroughForms(new UserAgent(netid.issuer), pending.url, person.email, person.password);
  // The code is exchanged for a token to the API by naming it again (RFC 8707 2.2).
  const tokens = await oidc.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce },
    { resource: apiResource(netid) },
  );
  return tokens.access_token;
}

/** Calls the API at `path` (under /api/v1) with a token, as JSON. */
export async function callApi(
  netid: RunningNetid,
  token: string | undefined,
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiAnswer> {
  const response = await fetch(`${netid.issuer}/api/v1${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(options.body !== undefined || options.rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: Record<string, unknown>;
}

/**
 * Checks real answers against the API's own OpenAPI document: the status must
 * be one the operation lists, and the body must validate against its schema
 * for the answer's content type.
 */
export async function openApiChecker(netid: RunningNetid) {
  const document = (await (await fetch(`${netid.issuer}/api/v1/openapi.json`)).json()) as OpenApiDocument;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'netid-api', components: document.components });
  const operations = Object.entries(document.paths).flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      pattern: new RegExp(`^/api/v1${template.replace(/^\/api\/v1/, '').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      operation,
    })),
  );
  const compiled = new Map<unknown, ReturnType<typeof ajv.compile>>();

  return {
    document,
    /** Expects `answer` to be what the document says `method path` answers. */
    expectConformant(method: string, path: string, answer: ApiAnswer): void {
      const pathname = new URL(`http://x/api/v1${path}`).pathname;
      const found = operations.find((candidate) => candidate.method === method && candidate.pattern.test(pathname));
      expect({ route: `${method} ${pathname}`, documented: Boolean(found) }).toEqual({ route: `${method} ${pathname}`, documented: true });
      const response = found!.operation.responses[String(answer.status)];
      expect({ route: `${method} ${pathname}`, status: answer.status, documented: Boolean(response) }).toEqual({
        route: `${method} ${pathname}`,
        status: answer.status,
        documented: true,
      });
      const contentType = (answer.headers.get('content-type') ?? '').split(';')[0]!;
      const schema = response!.content?.[contentType]?.schema;
      if (!response!.content) return;
      expect({ route: `${method} ${pathname}`, contentType }).toEqual({ route: `${method} ${pathname}`, contentType: Object.keys(response!.content)[0] });
      let validate = compiled.get(schema);
      if (!validate) {
        validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"netid-api#/components/')));
        compiled.set(schema, validate);
      }
      const valid = validate(answer.body);
      expect({ route: `${method} ${pathname}`, status: answer.status, errors: valid ? [] : validate.errors }).toEqual({
        route: `${method} ${pathname}`,
        status: answer.status,
        errors: [],
      });
    },
  };
}
