import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { accountClientUris } from '../../src/accounts/account-address.js';
import { API_ROUTES } from '../../src/api/api-router.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, createTestClient, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { signInToNetwork } from '../support/network.js';
import { clientApiToken } from '../support/management-api.js';
import { isPage, UserAgent, type Page } from '../support/user-agent.js';

/** Inputs per endpoint and database: enough to meet every kind of value below many times over. */
const RUNS = 60;

/** Characters that break naive code: controls, separators, markup, percent signs, lone surrogates, non-BMP. */
const AWKWARD = ['\u0000', '\u0007', '\t', '\n', '\r', '\u007f', '\u0085', '\u2028', '%', '%00', '+', '&', '=', '<', '"', "'", '\\', 'é', '\ud800', '😀', ' ', '@', '.', '/'];

/** Any value a person or a program could put in a parameter. */
const value = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: fc.constantFrom(...AWKWARD), maxLength: 12 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 300, maxLength: 3000 }),
  fc.constantFrom('', '0', '-1', '1e309', 'null', '{}', '[]', '{"id_token":{"acr":{"essential":true}}}', 'https://evil.example/', 'a'.repeat(70_000)),
);

/** Parameters named as the endpoint expects, plus strangers, repeated names included. */
const params = (names: string[]) =>
  fc.array(fc.tuple(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 8 })), value), { maxLength: 10 });

const encode = (pairs: Array<[string, string]>) => {
  const search = new URLSearchParams();
  for (const [name, v] of pairs) search.append(name, v);
  return search.toString();
};

/** A raw body that need not even be valid url-encoding. */
const rawBody = fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 200 }), fc.string({ unit: fc.constantFrom('%', 'a', '=', '&', '%ZZ', '%C0%80', '%ED%A0%80', '+'), maxLength: 40 }));

const AUTHORIZATION_PARAMETERS = [
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'prompt', 'max_age', 'login_hint',
  'ui_locales', 'claims_locales', 'acr_values', 'claims', 'code_challenge', 'code_challenge_method', 'resource', 'request', 'request_uri', 'dpop_jkt', 'id_token_hint',
];

interface Answer {
  status: number;
  body: string;
}

function expectNoServerError(what: string, answer: Answer): void {
  if (answer.status >= 500) throw new Error(`${what} answered ${answer.status}:\n${answer.body.slice(0, 1500)}`);
}

/**
 * Whatever comes in, NetID answers 4xx at worst: never a 5xx, on any endpoint
 * or form, on either database. fast-check makes the inputs (and shrinks a
 * failing one to its smallest form in the error message).
 */
describe.each(backends)('no input yields a server error (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let person: TestPerson;
  let account: CreatedAccount;
  let basic: string;
  let redirectUri: string;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    person = await createPerson(netid.context);
    account = await createTestAccount(netid.context, person);
    await createTestClient(netid.context, { name: 'Back end', grantTypes: ['client_credentials'] });
    basic = `Basic ${Buffer.from(`${encodeURIComponent(account.clientId)}:${encodeURIComponent(account.clientSecret)}`).toString('base64')}`;
    redirectUri = (accountClientUris(netid.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  async function send(path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const response = await fetch(`${netid.issuer}${path}`, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: { accept: 'text/html', ...(init.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...init.headers },
      body: init.body,
    });
    return { status: response.status, body: await response.text() };
  }

  const property = (arbitrary: fc.Arbitrary<unknown>, run: (input: never) => Promise<void>) =>
    fc.assert(fc.asyncProperty(arbitrary, run as (input: unknown) => Promise<void>), { numRuns: RUNS });

  describe("oidc-provider's endpoints", () => {
    test('the authorization endpoint, by GET and by POST', async () => {
      const withClient = params(AUTHORIZATION_PARAMETERS).map((pairs): Array<[string, string]> => [['client_id', account.clientId], ['redirect_uri', redirectUri], ...pairs]);
      await property(fc.tuple(fc.oneof(params(AUTHORIZATION_PARAMETERS), withClient), fc.boolean()), async ([pairs, post]: [Array<[string, string]>, boolean]) => {
        const query = encode(pairs);
        expectNoServerError(`GET /auth?${query}`, await send(`/auth?${query}`));
        if (post) expectNoServerError(`POST /auth ${query}`, await send('/auth', { method: 'POST', body: query }));
      });
    });

    test('the token endpoint, with and without client authentication, for every grant', async () => {
      const grant = fc.constantFrom('authorization_code', 'refresh_token', 'client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:device_code', '');
      const names = ['grant_type', 'code', 'redirect_uri', 'code_verifier', 'refresh_token', 'scope', 'resource', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];
      await property(fc.tuple(grant, params(names), fc.boolean(), rawBody), async ([type, pairs, authenticated, raw]: [string, Array<[string, string]>, boolean, string]) => {
        const headers: Record<string, string> = authenticated ? { authorization: basic } : {};
        expectNoServerError('POST /token', await send('/token', { method: 'POST', body: encode([['grant_type', type], ...pairs]), headers }));
        expectNoServerError(`POST /token raw ${raw}`, await send('/token', { method: 'POST', body: raw, headers }));
      });
    });

    test('introspection, revocation and pushed authorization requests', async () => {
      await property(fc.tuple(params(['token', 'token_type_hint', ...AUTHORIZATION_PARAMETERS]), fc.boolean()), async ([pairs, authenticated]: [Array<[string, string]>, boolean]) => {
        const headers: Record<string, string> = authenticated ? { authorization: basic } : {};
        for (const path of ['/token/introspection', '/token/revocation', '/request']) {
          expectNoServerError(`POST ${path}`, await send(path, { method: 'POST', body: encode(pairs), headers }));
        }
      });
    });

    test('userinfo with any bearer token, and end session by GET and POST', async () => {
      const token = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', '~', '+', '/', '='), maxLength: 60 });
      await property(fc.tuple(token, params(['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id', 'logout_hint', 'ui_locales'])), async ([bearer, pairs]: [string, Array<[string, string]>]) => {
        expectNoServerError('GET /me', await send('/me', { headers: { authorization: `Bearer ${bearer}` } }));
        expectNoServerError('POST /me', await send('/me', { method: 'POST', body: encode([['access_token', bearer]]) }));
        const query = encode(pairs);
        expectNoServerError(`GET /session/end?${query}`, await send(`/session/end?${query}`));
        expectNoServerError('POST /session/end', await send('/session/end', { method: 'POST', body: query }));
        expectNoServerError('POST /session/end/confirm', await send('/session/end/confirm', { method: 'POST', body: query }));
      });
    });
  });

  describe("NetID's pages", () => {
    /** A sign-in in progress in a fresh browser, at its first page. */
    async function signInScreen(): Promise<{ agent: UserAgent; page: Page }> {
      const agent = new UserAgent(netid.issuer);
      return { agent, page: await agent.page('/network') };
    }

    /** Posts the fields to a form's action with the page's hidden fields (CSRF included), then sends them raw. */
    async function postForm(agent: UserAgent, page: Page, action: string, pairs: Array<[string, string]>): Promise<void> {
      const url = new URL(action, page.url).toString();
      const csrf = page.document.querySelector('input[name=csrf]')?.getAttribute('value') ?? '';
      const response = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: await agent.jar.getCookieString(url), 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: encode([['csrf', csrf], ...pairs]),
      });
      expectNoServerError(`POST ${new URL(url).pathname}`, { status: response.status, body: await response.text() });
    }

    test('every form of the sign-in screen', async () => {
      const names = ['identifier', 'password', 'first_name', 'last_name', 'email', 'code', 'resend', 'decision'];
      await property(params(names), async (pairs: Array<[string, string]>) => {
        const { agent, page } = await signInScreen();
        const uid = /\/interaction\/([^/]+)/.exec(page.url)![1]!;
        for (const step of ['login', 'signup', 'recover', 'recover/code', 'confirm-email', 'confirm-email/resend', 'consent', 'abort']) {
          await postForm(agent, page, `/interaction/${uid}/${step}`, pairs);
        }
        for (const query of [`?${encode(pairs)}`, '']) {
          for (const step of ['', '/signup', '/recover', '/recover/code']) {
            const url = `/interaction/${uid}${step}${query}`;
            const response = await fetch(`${netid.issuer}${url}`, { headers: { cookie: await agent.jar.getCookieString(`${netid.issuer}${url}`) }, redirect: 'manual' });
            expectNoServerError(`GET ${url}`, { status: response.status, body: await response.text() });
          }
        }
      });
    });

    test('every form of the network profile', async () => {
      const agent = new UserAgent(netid.issuer);
      await signInToNetwork(agent, person.email, person.password);
      const page = await agent.page('/network/profile');
      const names = ['first_name', 'last_name', 'propagate', 'value', 'code', 'current_password', 'new_password', 'password', 'confirm', 'name'];
      // Path segments as they travel, already encoded; some not validly (a lone surrogate's bytes, a stray %).
      const segment = fc.oneof(
        fc.constant(account.account.name),
        fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: fc.constantFrom(...AWKWARD), maxLength: 6 })).map((text) => encodeURIComponent(Buffer.from(text).toString())),
        fc.constantFrom('%ED%A0%80', '%', '%zz', '%2F', '..', '%C0%80'),
      );
      await property(fc.tuple(params(names), segment), async ([pairs, name]: [Array<[string, string]>, string]) => {
        for (const action of ['/network/profile', '/network/email', '/network/email/confirm', '/network/phone', '/network/phone/confirm', '/network/password', '/network/delete', '/network/accounts']) {
          await postForm(agent, page, action, pairs);
        }
        await postForm(agent, page, `/network/accounts/${name}/rename`, pairs);
        const query = encode(pairs);
        for (const url of [`/network?${query}`, `/network/sign-in?${query}`, `/network/callback?${query}`, `/network/accounts/${name}/rename`, `/photos/${name}?${query}`]) {
          const response = await fetch(`${netid.issuer}${url}`, { headers: { cookie: await agent.jar.getCookieString(`${netid.issuer}${url}`) }, redirect: 'manual' });
          expectNoServerError(`GET ${url}`, { status: response.status, body: await response.text() });
        }
      });
      // Still signed in, and still the same person: nothing above could change the password.
      const after = await agent.page('/network');
      expect(isPage(after) && after.document.querySelector('#profile-name')).toBeTruthy();
    });

    test('the photo upload, with any bytes under any name and type', async () => {
      const agent = new UserAgent(netid.issuer);
      await signInToNetwork(agent, person.email, person.password);
      const page = await agent.page('/network/profile');
      const csrf = page.document.querySelector('form[action="/network/profile/photo"] input[name=csrf]')!.getAttribute('value')!;
      const file = fc.tuple(fc.uint8Array({ maxLength: 2048 }), fc.string({ maxLength: 20 }), fc.constantFrom('image/jpeg', 'image/png', 'text/plain', 'application/octet-stream', ''));
      await property(fc.tuple(file, fc.boolean()), async ([[bytes, filename, type], withCsrf]: [[Uint8Array, string, string], boolean]) => {
        const body = new FormData();
        if (withCsrf) body.set('csrf', csrf);
        body.set('photo', new Blob([new Uint8Array(bytes)], { type }), filename);
        const response = await fetch(`${netid.issuer}/network/profile/photo`, {
          method: 'POST',
          body,
          redirect: 'manual',
          headers: { cookie: await agent.jar.getCookieString(netid.issuer), accept: 'text/html' },
        });
        expectNoServerError('POST /network/profile/photo', { status: response.status, body: await response.text() });
      });
    });
  });

  describe('the management API', () => {
    /** Any JSON a client could send: objects with the route's field names and strangers, arrays, scalars. */
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 4 }),
      object: fc.dictionary(fc.oneof(fc.constantFrom('address', 'role', 'name', 'locale', 'admin_profile_id', 'grace_seconds', 'client_ids', 'identifier', 'scopes'), fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 5 }),
    })).value;

    test('every route, with any path, query and body, by an operator who may call them all', async () => {
      const operator = await createTestClient(netid.context, { name: 'Operations', grantTypes: ['client_credentials'], operator: true });
      const token = await clientApiToken(netid, { clientId: operator.clientId, clientSecret: operator.clientSecret! }, 'operator');
      const segment = fc.oneof(
        fc.constantFrom(account.account.id, account.account.name, person.profile.id, account.clientId, encodeURIComponent(`${netid.issuer}/api`)),
        fc.string({ maxLength: 12 }).map((text) => encodeURIComponent(Buffer.from(text).toString())),
        fc.constantFrom('%ED%A0%80', '%', '..', '%2F', '00000000-0000-0000-0000-000000000000'),
      );
      for (const route of API_ROUTES) {
        await property(fc.tuple(segment, segment, params(['limit', 'cursor', 'state', 'role', 'name', 'q', 'kind', 'since', 'until']), fc.oneof(json, fc.string({ maxLength: 40 }))), async ([first, second, query, body]: [string, string, Array<[string, string]>, unknown]) => {
          let filled = 0;
          const path = route.path.replace(/\{\w+\}/g, () => (filled++ === 0 ? first : second));
          const response = await fetch(`${netid.issuer}/api/v1${path}?${encode(query)}`, {
            method: route.method.toUpperCase(),
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: route.method === 'get' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
          });
          expectNoServerError(`${route.method.toUpperCase()} ${path}`, { status: response.status, body: await response.text() });
        });
      }
    });
  });
});
