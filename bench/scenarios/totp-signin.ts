import { createHash, randomBytes } from 'node:crypto';
import { generate } from 'otplib';
import { authorizationCodeFlow, CookieJar, FlowError } from '../browser.js';
import { workers } from '../load.js';
import { Recorder } from '../measurement.js';
import { basicAuthorization, type Person, type SecondStepPerson, type ServerInfo } from '../target.js';
import { originFor, personFor } from '../tokens.js';
import type { Scenario } from './scenario.js';

const TIMEOUT_MS = 30_000;

interface Answer {
  status: number;
  location: URL | undefined;
  text: string;
}

async function send(jar: CookieJar, url: URL, step: string, form?: Record<string, string>): Promise<Answer> {
  let response;
  try {
    response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { accept: 'text/html', cookie: jar.header(url.pathname), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form).toString() : null,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new FlowError(step, (error as Error).message);
  }
  jar.store(response.headers.getSetCookie());
  const location = response.headers.get('location');
  return { status: response.status, location: location ? new URL(location, url) : undefined, text: await response.text() };
}

/**
 * Follows redirects within NetID (`within`: its origins, by default the one
 * asked); answers the page it stops at, or the URL it left for.
 */
async function follow(
  jar: CookieJar,
  url: URL,
  step: string,
  form?: Record<string, string>,
  within: ReadonlySet<string> = new Set([url.origin]),
): Promise<{ page: Answer; url: URL } | { left: URL }> {
  let answer = await send(jar, url, step, form);
  for (let hops = 0; hops < 12; hops++) {
    if (!(answer.status >= 300 && answer.status < 400 && answer.location)) return { page: answer, url };
    if (!within.has(answer.location.origin)) return { left: answer.location };
    url = answer.location;
    answer = await send(jar, url, `GET ${url.pathname.replace(/\/[^/]{16,}/g, '/…')}`);
  }
  throw new FlowError(step, 'too many redirects');
}

const csrfIn = (html: string) => /<input[^>]*name="csrf"[^>]*value="([^"]*)"/.exec(html)?.[1];
const actionIn = (html: string, ending: string) => new RegExp(`<form[^>]*action="([^"]*${ending})"`).exec(html)?.[1];

/** An authenticator app: each code from a step later than the last, now or the step after. */
class AuthenticatorApp {
  /** `last`: the time step of the last code it gave (the seed confirmed the app with one). */
  constructor(
    readonly secret: string,
    private last: number,
  ) {}
  /** The current step when unused, which stays good longest while a busy NetID has the code waiting in line. */
  private nextStep(): number {
    return Math.max(this.last + 1, Math.floor(Date.now() / 30_000));
  }
  /** Whether NetID would take a code from it now: one time step is accepted once per profile. */
  hasFreshCode(): boolean {
    return this.nextStep() <= Math.floor(Date.now() / 30_000) + 1;
  }
  async nextCode(): Promise<string> {
    if (!this.hasFreshCode()) throw new FlowError('authenticator', 'no fresh time step');
    const step = this.nextStep();
    this.last = step;
    return generate({ secret: this.secret, epoch: step * 30 + 1 });
  }
}

/**
 * The account's sign-in in a fresh browser: /auth, the password, the
 * authenticator code when the second step asks for it, and the code
 * exchanged at the token endpoint.
 */
async function signIn(server: ServerInfo, origin: string, person: Person, app: AuthenticatorApp): Promise<void> {
  const jar = new CookieJar();
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
  // NetID builds its URLs from ISSUER, so a flow begun on a fleet's second instance goes on at the first.
  const netid = new Set([...server.origins, new URL(server.issuer).origin]);
  let at = await follow(jar, authorization, 'GET /auth', undefined, netid);
  for (let pages = 0; pages < 3 && !('left' in at); pages++) {
    const { page, url } = at;
    const csrf = csrfIn(page.text) ?? '';
    const login = actionIn(page.text, '/login');
    const secondStep = actionIn(page.text, '/second-factor/totp');
    if (login) at = await follow(jar, new URL(login, url), 'POST sign-in form', { csrf, identifier: person.identifier, password: person.password }, netid);
    else if (secondStep) at = await follow(jar, new URL(secondStep, url), 'POST authenticator code', { csrf, code: await app.nextCode() }, netid);
    else throw new FlowError('sign-in', `status ${page.status}: ${page.text.slice(0, 300).replace(/\s+/g, ' ')}`);
  }
  if (!('left' in at)) throw new FlowError('sign-in', 'no way back to the account');
  const code = at.left.searchParams.get('code');
  if (!code || at.left.searchParams.get('state') !== state) throw new FlowError('callback', `no code: ${at.left.search}`);
  const response = await fetch(new URL('/token', origin), {
    method: 'POST',
    headers: { authorization: basicAuthorization(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier }).toString(),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (response.status !== 200) throw new FlowError('POST /token', `status ${response.status}`);
  await response.text();
}

/** The NetID the last measurement ran against: the password-only figure beside it is taken there too. */
let lastNetid: ServerInfo | undefined;
/**
 * Each second-step profile's app, kept for the whole run: NetID remembers the
 * last step it accepted from it. By secret, as a fleet's database has
 * profiles of the same names with apps of their own.
 */
const apps = new Map<string, AuthenticatorApp>();

function appOf(person: SecondStepPerson): AuthenticatorApp {
  let app = apps.get(person.totpSecret);
  if (!app) apps.set(person.totpSecret, (app = new AuthenticatorApp(person.totpSecret, person.lastTimeStep)));
  return app;
}

/**
 * The same sign-in as password_signin, with an authenticator app code after
 * the password. NetID accepts a code once per 30-second step and profile, so
 * each virtual user takes turns among profiles of its own (bench/seed.ts
 * makes 40 per virtual user and sets up their apps, so the benchmark's
 * NetID does nothing but sign-ins). A virtual user with no profile
 * left whose code is fresh counts an error rather than waiting. Beside it, in
 * the reference column, the password-only sign-in of the account's usual
 * people on the same NetID in the same run: the ratio is the second step's
 * price.
 */
export const totpSignin: Scenario = {
  name: 'totp_signin',
  async measure(server, load) {
    lastNetid = server;
    const people = server.secondStepPeople ?? [];
    const perUser = Math.floor(people.length / load.connections);
    if (!perUser) throw new Error(`${server.label} has no second-step profiles for ${load.connections} virtual users`);
    const profiles = Array.from({ length: load.connections }, (_, worker) =>
      people.slice(worker * perUser, (worker + 1) * perUser).map((person) => ({ person, app: appOf(person) })),
    );

    const recorder = new Recorder();
    let timedMs = 0;
    const deadline = performance.now() + load.duration * 1000;
    await Promise.all(
      profiles.map(async (mine, worker) => {
        const origin = originFor(server, worker);
        let turn = 0;
        while (performance.now() < deadline) {
          const next = mine.slice(turn).concat(mine.slice(0, turn)).findIndex(({ app }) => app.hasFreshCode());
          if (next < 0) {
            recorder.failure('no profile with a fresh code');
            await new Promise((resolve) => setTimeout(resolve, 1000));
            continue;
          }
          const { person, app } = mine[(turn + next) % mine.length]!;
          turn = (turn + next + 1) % mine.length;
          const begun = performance.now();
          try {
            await signIn(server, origin, person, app);
            const took = performance.now() - begun;
            timedMs += took;
            recorder.success(took);
          } catch (error) {
            timedMs += performance.now() - begun;
            recorder.failure((error instanceof Error ? error.message : String(error)).slice(0, 160));
          }
        }
      }),
    );
    return recorder.finish(timedMs / 1000 / load.connections);
  },
  // The bare oidc-provider has no second step: the password-only sign-in on NetID is what this is compared with.
  measureReference: (_server, load) => {
    const netid = lastNetid;
    if (!netid) throw new Error('totp_signin measures NetID before its password-only figure');
    return workers(load.connections, load.duration, async (worker) => {
      await authorizationCodeFlow(netid, originFor(netid, worker), personFor(netid, worker), { scope: 'openid profile email' });
    });
  },
};
