import { createHash, randomBytes } from 'node:crypto';
import { signingKey, startOidcStandIn, type OidcStandIn } from '../../test/support/oidc-stand-in.js';
import { CookieJar, FlowError } from '../browser.js';
import { freeLoopbackPort } from '../child-server.js';
import { workers } from '../load.js';
import { basicAuthorization, type Person, type ServerInfo } from '../target.js';
import { originFor, personFor } from '../tokens.js';
import type { Scenario } from './scenario.js';

const PROVIDER = 'bench';
const CLIENT = { id: 'netid-bench', secret: 'bench upstream client secret' };
const REQUEST_TIMEOUT_MS = 30_000;

// NetID learns its providers from its environment at start, and its processes inherit the benchmark's
// environment; so the stand-in's address is fixed as the scenarios load, before any NetID starts.
const port = await freeLoopbackPort();
const upstreamOrigin = `http://127.0.0.1:${port}`;
Object.assign(process.env, {
  FEDERATION_OIDC_BENCH_ISSUER: upstreamOrigin,
  FEDERATION_OIDC_BENCH_CLIENT_ID: CLIENT.id,
  FEDERATION_OIDC_BENCH_CLIENT_SECRET: CLIENT.secret,
});

/** The upstream subject of each seeded person, linked to their profile before the clock starts. */
const subjectOf = (person: Person) => `bench-${person.identifier}`;

let running: { issuer: string; standIn: OidcStandIn } | undefined;
/** One key for every start of the stand-in: a NetID keeps the provider's keys it fetched once. */
const upstreamKey = await signingKey();

/**
 * The stand-in provider (oidc-provider, in this process) registered with the
 * callback of the NetID it serves; the fleet has an issuer of its own, so the
 * stand-in is started again, on the same port, when the issuer changes.
 */
async function standInFor(issuer: string): Promise<OidcStandIn> {
  if (running?.issuer === issuer) return running.standIn;
  await running?.standIn.stop();
  const standIn = await startOidcStandIn({
    port,
    clientId: CLIENT.id,
    clientSecret: CLIENT.secret,
    redirectUri: `${issuer}/federation/${PROVIDER}/callback`,
    signingKey: upstreamKey,
    personFor: (ctx) => ({ sub: `bench-${ctx.get('x-bench-person')}`, email: ctx.get('x-bench-person'), email_verified: true, given_name: 'Bench' }),
  });
  running = { issuer, standIn };
  return standIn;
}

interface Answer {
  status: number;
  url: URL;
  text: string;
  /** Where the browser was sent outside NetID and the provider (the relying party's redirect URI). */
  left?: URL;
}

/**
 * A browser of one virtual user: redirects followed between NetID and the
 * provider, a cookie jar for NetID (all its instances are one site behind a
 * balancer, and NetID sends a flow begun on one on to the issuer's) and one
 * for the provider.
 */
class Browser {
  private readonly jars = new Map<string, CookieJar>();
  private readonly followed: string[];

  constructor(
    private readonly netid: string[],
    upstream: string,
    private readonly person: Person,
  ) {
    this.followed = [...netid, upstream];
  }

  private jarFor(origin: string): CookieJar {
    const site = this.netid.includes(origin) ? 'netid' : origin;
    const jar = this.jars.get(site) ?? new CookieJar();
    this.jars.set(site, jar);
    return jar;
  }

  async go(url: URL, step: string, form?: Record<string, string>): Promise<Answer> {
    let current = url;
    let body = form ? new URLSearchParams(form).toString() : undefined;
    for (let hops = 0; hops < 16; hops++) {
      if (!this.followed.includes(current.origin)) return { status: 302, url: current, text: '', left: current };
      const jar = this.jarFor(current.origin);
      let response: Response;
      try {
        response = await fetch(current, {
          method: body ? 'POST' : 'GET',
          redirect: 'manual',
          headers: {
            accept: 'text/html',
            cookie: jar.header(current.pathname),
            'x-bench-person': this.person.identifier,
            ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (error) {
        throw new FlowError(step, (error as Error).message);
      }
      jar.store(response.headers.getSetCookie());
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        current = new URL(location, current);
        body = undefined;
        continue;
      }
      return { status: response.status, url: current, text: await response.text() };
    }
    throw new FlowError(step, 'too many redirects');
  }
}

/** A form on a page: its action and CSRF token. */
function formOn(page: Answer, action: RegExp, step: string): { url: URL; csrf: string } {
  const match = new RegExp(`<form method="post" action="(${action.source})"[^>]*>\\s*<input type="hidden" name="csrf" value="([^"]*)">`).exec(page.text);
  if (!match) throw new FlowError(step, `status ${page.status} at ${page.url.pathname}, no form ${action.source}: ${page.text.slice(0, 200).replace(/\s+/g, ' ')}`);
  return { url: new URL(match[1]!, page.url), csrf: match[2]! };
}

const linked = new Set<string>();

/** Signs the seeded person in with the password and connects the provider on the Social media page, once per run. */
async function linkIdentity(server: ServerInfo, origin: string, person: Person): Promise<void> {
  // Per NetID: a fleet has a database of its own, with profiles of the same names.
  const key = `${server.issuer} ${person.identifier}`;
  if (linked.has(key)) return;
  const browser = new Browser(server.origins, upstreamOrigin, person);
  const login = await browser.go(new URL('/network', origin), 'link: sign-in page');
  const form = formOn(login, /[^"]*\/login/, 'link: sign-in form');
  await browser.go(form.url, 'link: password', { csrf: form.csrf, identifier: person.identifier, password: person.password });
  const social = await browser.go(new URL('/network/social', origin), 'link: social media page');
  const connect = formOn(social, new RegExp(`/network/social/${PROVIDER}/connect`), 'link: connect form');
  const done = await browser.go(connect.url, 'link: connect', { csrf: connect.csrf });
  if (!done.url.search.includes('done.identity_connected')) throw new FlowError('link: connect', `ended at ${done.url.pathname}${done.url.search}`);
  linked.add(key);
}

/**
 * A person at a Bitrix24 account signs in with an upstream OpenID Connect
 * provider, in a fresh browser each time: the account's /auth, NetID's
 * sign-in screen, "Continue with" the provider, the provider's own
 * authorization (a stand-in: oidc-provider, answering without a page), its
 * answer through NetID's callback into the sign-in (code exchanged, ID token
 * and its signature checked), the known identity's profile
 * signed in, consent skipped for the account's own client, the code, the
 * token exchange with PKCE.
 *
 * Its reference is the stand-in alone, in the same run: the same upstream
 * round trip a relying party makes with it directly (authorization, code,
 * token exchange), which is the part of the flow NetID cannot make cheaper.
 */
export const federatedSignin: Scenario = {
  name: 'federated_signin',
  async measure(server, load) {
    await standInFor(server.issuer);
    for (let worker = 0; worker < load.connections; worker++) {
      const person = personFor(server, worker);
      if (!person) throw new Error(`${server.label} has no people to sign in`);
      await linkIdentity(server, originFor(server, worker), person);
    }
    return workers(load.connections, load.duration, async (worker) => {
      const person = personFor(server, worker)!;
      const origin = originFor(server, worker);
      const client = server.accountClient;
      const verifier = randomBytes(32).toString('base64url');
      const state = randomBytes(16).toString('base64url');
      const authorization = new URL('/auth', origin);
      authorization.search = new URLSearchParams({
        client_id: client.clientId,
        redirect_uri: client.redirectUri,
        response_type: 'code',
        scope: 'openid profile email',
        state,
        nonce: randomBytes(16).toString('base64url'),
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      const browser = new Browser(server.origins, upstreamOrigin, person);
      const login = await browser.go(authorization, 'GET /auth');
      const start = formOn(login, new RegExp(`[^"]*/federation/${PROVIDER}`), 'sign-in screen');
      const back = await browser.go(start.url, 'round trip to the provider', { csrf: start.csrf });
      const code = back.left?.searchParams.get('code');
      if (!code || back.left!.searchParams.get('state') !== state) throw new FlowError('callback', `no code: ${back.url.pathname} ${back.status} ${back.text.slice(0, 200).replace(/\s+/g, ' ')}`);
      const token = await fetch(new URL('/token', origin), {
        method: 'POST',
        headers: { authorization: basicAuthorization(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier }).toString(),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (token.status !== 200) throw new FlowError('POST /token', `status ${token.status}: ${(await token.text()).slice(0, 200)}`);
      await token.arrayBuffer();
    });
  },

  async measureReference(server, load) {
    const standIn = await standInFor(running?.issuer ?? server.issuer);
    const redirectUri = `${running!.issuer}/federation/${PROVIDER}/callback`;
    return workers(load.connections, load.duration, async (worker) => {
      const person = personFor(server, worker) ?? { identifier: `reference${worker}@bench.test`, password: '' };
      const verifier = randomBytes(32).toString('base64url');
      const state = randomBytes(16).toString('base64url');
      const authorization = new URL('/auth', standIn.serverOrigin);
      authorization.search = new URLSearchParams({
        client_id: CLIENT.id,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: 'openid email profile',
        state,
        nonce: randomBytes(16).toString('base64url'),
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      const answer = await new Browser([], standIn.serverOrigin, person).go(authorization, 'GET /auth at the provider');
      const code = answer.left?.searchParams.get('code');
      if (!code) throw new FlowError('provider callback', `no code: ${answer.status} ${answer.text.slice(0, 200)}`);
      const tokenResponse = await fetch(new URL('/token', standIn.serverOrigin), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_id: CLIENT.id, client_secret: CLIENT.secret }).toString(),
      });
      if (tokenResponse.status !== 200) throw new FlowError('provider /token', `status ${tokenResponse.status}`);
      await tokenResponse.arrayBuffer();
    });
  },
};
