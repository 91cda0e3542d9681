import { createHash, randomBytes } from 'node:crypto';
import { basicAuthorization, type Person, type ServerInfo } from './target.js';

const REQUEST_TIMEOUT_MS = 30_000;

/** A failed step of a flow, named so an error count can say what went wrong. */
export class FlowError extends Error {
  constructor(readonly step: string, detail: string) {
    super(`${step}: ${detail}`);
  }
}

/** The few cookie rules one origin needs: path matching, replacement and deletion. */
export class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  store(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const equals = pair.indexOf('=');
      if (equals < 1) continue;
      const name = pair.slice(0, equals).trim();
      const value = pair.slice(equals + 1).trim();
      let path = '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        const attributeValue = rest.join('=').trim();
        switch (key.trim().toLowerCase()) {
          case 'path':
            path = attributeValue || '/';
            break;
          case 'max-age':
            expired ||= Number(attributeValue) <= 0;
            break;
          case 'expires':
            expired ||= Date.parse(attributeValue) <= Date.now();
            break;
        }
      }
      const key = `${name};${path}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  header(path: string): string {
    const matches = (cookiePath: string) =>
      path === cookiePath || path.startsWith(cookiePath.endsWith('/') ? cookiePath : `${cookiePath}/`);
    return [...this.cookies.values()]
      .filter((cookie) => matches(cookie.path))
      // RFC 6265 5.4: longer paths first.
      .sort((a, b) => b.path.length - a.path.length)
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }
}

interface Response {
  status: number;
  location: URL | undefined;
  text: string;
}

async function send(jar: CookieJar, url: URL, step: string, form?: Record<string, string>): Promise<Response> {
  let response;
  try {
    response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        cookie: jar.header(url.pathname),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : null,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new FlowError(step, (error as Error).message);
  }
  jar.store(response.headers.getSetCookie());
  const location = response.headers.get('location');
  return { status: response.status, location: location ? new URL(location, url) : undefined, text: await response.text() };
}

export interface Tokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

function loginForm(html: string): { action: string; csrf: string } | undefined {
  const action = /<form[^>]*action="([^"]*\/login)"/.exec(html)?.[1];
  const csrf = /<input[^>]*name="csrf"[^>]*value="([^"]*)"/.exec(html)?.[1];
  return action && csrf ? { action, csrf } : undefined;
}

/**
 * One authorization code flow in a fresh browser, as a relying party and a
 * person would go through it: /auth, the sign-in page when the server shows
 * one (CSRF and form action read from it), redirects followed with the
 * browser's cookies until the relying party's redirect URI, then the code
 * exchanged with PKCE at the token endpoint. `origin` is the instance the
 * flow starts on; redirects may lead elsewhere.
 */
export async function authorizationCodeFlow(
  server: ServerInfo,
  origin: string,
  person: Person | undefined,
  params: { scope: string; prompt?: string },
): Promise<Tokens> {
  const jar = new CookieJar();
  const client = server.accountClient;
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  let url: URL = new URL('/auth', origin);
  url.search = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope: params.scope,
    state,
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...(params.prompt ? { prompt: params.prompt } : {}),
  }).toString();

  let form: Record<string, string> | undefined;
  let step = 'GET /auth';
  let callback: URL | undefined;
  // The relying party's address, not any other origin: NetID builds its own URLs from ISSUER, so a
  // flow begun on a second instance of a fleet goes on at the first, as behind a load balancer.
  const redirectUri = new URL(client.redirectUri);
  const isCallback = (location: URL) => location.origin === redirectUri.origin && location.pathname === redirectUri.pathname;
  for (let hops = 0; hops < 12 && !callback; hops++) {
    const response = await send(jar, url, step, form);
    form = undefined;
    if (response.status >= 300 && response.status < 400 && response.location) {
      if (isCallback(response.location)) callback = response.location;
      url = response.location;
      step = `GET ${url.pathname.replace(/\/[^/]{16,}/g, '/…')}`;
      continue;
    }
    const page = response.status === 200 ? loginForm(response.text) : undefined;
    if (!page) throw new FlowError(step, `status ${response.status}: ${response.text.slice(0, 300).replace(/\s+/g, ' ')}`);
    if (!person) throw new FlowError(step, 'the server asks for a password and no person was given');
    url = new URL(page.action, url);
    form = { csrf: page.csrf, identifier: person.identifier, password: person.password };
    step = 'POST sign-in form';
  }
  if (!callback) throw new FlowError(step, 'too many redirects');
  const code = callback.searchParams.get('code');
  if (!code) throw new FlowError('callback', `no code: ${callback.origin}${callback.pathname}${callback.search}${callback.hash} after ${step}`);
  if (callback.searchParams.get('state') !== state) throw new FlowError('callback', 'state does not match');

  let response;
  try {
    response = await fetch(new URL('/token', origin), {
      method: 'POST',
      headers: {
        authorization: basicAuthorization(client.clientId, client.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier }).toString(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new FlowError('POST /token', (error as Error).message);
  }
  const text = await response.text();
  if (response.status !== 200) throw new FlowError('POST /token', `status ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Tokens;
}
