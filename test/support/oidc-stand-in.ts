import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import Koa, { type Context, type Next } from 'koa';
import mount from 'koa-mount';
import Provider, { type Configuration } from 'oidc-provider';
import sharp from 'sharp';
import { withBody } from '../../src/oidc/request-body.js';

/** Who the stand-in signs in at its next authorization request, or what it answers instead. */
export interface UpstreamPerson {
  sub: string;
  email?: string;
  email_verified?: boolean | string;
  given_name?: string;
  family_name?: string;
  name?: string;
  /** A picture the stand-in serves itself (`/picture.png`) when true. */
  picture?: boolean;
  /** Claims of the provider's own (Microsoft's tid, oid, xms_edov). */
  extra?: Record<string, unknown>;
}

export type NextAnswer = UpstreamPerson | { error: 'access_denied' | 'server_error' };

export interface OidcStandInOptions {
  /** The issuer its ID tokens name; by default its own origin. */
  issuer?: string;
  /** The issuer its discovery document names, when it differs (Microsoft's `{tenantid}` pattern). */
  publishedIssuer?: string;
  /** The host the browser reaches it at: `localhost` makes it another site than NetID at 127.0.0.1. */
  host?: 'localhost' | '127.0.0.1';
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Leave the `iss` parameter out of authorization responses, as Microsoft and Apple do. */
  withoutIssParameter?: boolean;
  /** Checks the client secret NetID sends at the token endpoint (Apple's signed JWT) and answers whether to accept it. */
  checkClientSecret?: (secret: string) => Promise<boolean>;
  /** Like many providers, put the scope's claims in userinfo only, not in the ID token (OpenID Connect Core 5.4). */
  claimsInUserinfoOnly?: boolean;
  /** A fixed port (the benchmark names it in NetID's configuration before the stand-in starts). */
  port?: number;
  /** Who signs in, decided per request (the benchmark's virtual users say who they are in a header); `next` otherwise. */
  personFor?: (ctx: Context) => UpstreamPerson | undefined;
  /** Apple: post the `user` field with the person's name along with the code. */
  postUserField?: boolean;
  /**
   * The key its ID tokens are signed with, for a stand-in started again on
   * the same address (the benchmark does, for each NetID it serves) whose
   * earlier keys a NetID may still hold; a new one by default.
   */
  signingKey?: JWK;
}

/**
 * A rewrite of the ID token the token endpoint answers with, for tests of
 * NetID's checks: other claims (a wrong audience, nonce or issuer), or a
 * signature by a key the provider does not publish.
 */
export interface IdTokenTamper {
  claims?: (claims: Record<string, unknown>) => Record<string, unknown>;
  forgeSignature?: boolean;
}

export interface OidcStandIn {
  issuer: string;
  /** Where NetID's server reaches it. */
  serverOrigin: string;
  /** Where the browser reaches it. */
  browserOrigin: string;
  next: NextAnswer;
  /** Authorization requests received, their parameters (state, nonce, PKCE, response_mode). */
  authorizations: URLSearchParams[];
  /** Token requests received. */
  tokenRequests: number;
  tamper: IdTokenTamper | undefined;
  stop(): Promise<void>;
}

/** What the stand-in keeps (sessions, interactions, codes, tokens), in memory, for as long as it runs. */
function memoryStorage() {
  const store = new Map<string, Record<string, unknown>>();
  return class StandInStorage {
    constructor(private readonly model: string) {}
    private key = (id: string) => `${this.model}:${id}`;
    async upsert(id: string, payload: Record<string, unknown>) {
      store.set(this.key(id), payload);
    }
    async find(id: string) {
      return store.get(this.key(id));
    }
    async findByUid(uid: string) {
      return [...store.entries()].find(([key, payload]) => key.startsWith(`${this.model}:`) && payload.uid === uid)?.[1];
    }
    async findByUserCode() {
      return undefined;
    }
    async consume(id: string) {
      const payload = store.get(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, payload] of store) if (payload.grantId === grantId) store.delete(key);
    }
  };
}

export async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: `k${Math.random().toString(36).slice(2, 10)}` };
}

/**
 * An OpenID Connect provider on loopback, built on oidc-provider as the real
 * ones behave towards NetID: discovery, authorization code with PKCE, state
 * and nonce, signed ID tokens, JWKS, userinfo. It signs in whoever `next`
 * names, asking nothing (its own login page is not what is tested), and
 * always asks for a login, so each round trip is one person.
 */
export async function startOidcStandIn(options: OidcStandInOptions): Promise<OidcStandIn> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const browserOrigin = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const issuer = options.issuer ?? browserOrigin;
  const people = new Map<string, UpstreamPerson>();
  const published = options.signingKey ?? (await signingKey());
  const forged = await signingKey();

  const configuration: Configuration = {
    adapter: memoryStorage(),
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: [options.redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [published] },
    claims: { openid: ['sub', 'tid', 'oid', 'xms_edov'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name', 'name', 'picture'] },
    conformIdTokenClaims: options.claimsInUserinfoOnly === true,
    pkce: { required: () => true },
    // Lifetimes of its own, so oidc-provider does not remind of its defaults on every start.
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
    features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const person = people.get(sub);
      if (!person) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: person.email,
            email_verified: person.email_verified,
            given_name: person.given_name,
            family_name: person.family_name,
            name: person.name,
            picture: person.picture ? `${browserOrigin}/picture.png` : undefined,
            ...person.extra,
          };
        },
      };
    },
  };
  const provider = new Provider(issuer, configuration);
  provider.proxy = false;

  const standIn: OidcStandIn = {
    issuer,
    serverOrigin: `http://127.0.0.1:${port}`,
    browserOrigin,
    next: { sub: 'nobody' },
    authorizations: [],
    tokenRequests: 0,
    tamper: undefined,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };

  const picture = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#2a7ab0' } }).png().toBuffer();

  const app = new Koa();
  app.use(async (ctx: Context, next: Next) => {
    if (ctx.path === '/picture.png') {
      ctx.type = 'image/png';
      ctx.body = picture;
      return;
    }
    if (ctx.path === '/auth' && ctx.method === 'GET') {
      standIn.authorizations.push(new URLSearchParams(ctx.querystring));
      // Every authorization request is a new login: the previous person's session is not used.
      delete ctx.req.headers.cookie;
    }
    if (ctx.path.startsWith('/interaction/')) return answerInteraction(ctx);
    if (ctx.path === '/token' && ctx.method === 'POST') {
      standIn.tokenRequests += 1;
      if (options.checkClientSecret) await checkSignedSecret(ctx);
    }
    await next();
    if (ctx.path === '/.well-known/openid-configuration') {
      const document = { ...(ctx.body as Record<string, unknown>) };
      if (options.publishedIssuer) document.issuer = options.publishedIssuer;
      if (options.withoutIssParameter) delete document.authorization_response_iss_parameter_supported;
      ctx.body = document;
    }
    if (standIn.tamper && ctx.path === '/token' && ctx.status === 200) await tamperWith(ctx, standIn.tamper);
    if (options.withoutIssParameter) withoutIss(ctx);
    if (options.postUserField && typeof ctx.body === 'string' && ctx.body.includes('name="code"')) addUserField(ctx);
  });
  app.use(mount(provider));
  app.on('error', () => {});
  server.on('request', app.callback());

  async function answerInteraction(ctx: Context): Promise<void> {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const answer = options.personFor?.(ctx) ?? standIn.next;
    if ('error' in answer) {
      await provider.interactionFinished(ctx.req, ctx.res, { error: answer.error, error_description: 'the stand-in was told to refuse' });
      ctx.respond = false;
      return;
    }
    people.set(answer.sub, answer);
    const grant = new provider.Grant({ accountId: answer.sub, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: answer.sub }, consent: { grantId } });
    ctx.respond = false;
  }

  /** Apple's client secret is a JWT: checked here, then the request goes on as the registered client. */
  async function checkSignedSecret(ctx: Context): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const accepted = await options.checkClientSecret!(form.get('client_secret') ?? '');
    form.set('client_secret', accepted ? options.clientSecret : 'refused');
    const body = Buffer.from(form.toString());
    ctx.req.headers['content-length'] = String(body.length);
    ctx.req = withBody(ctx.req, body);
  }

  async function tamperWith(ctx: Context, tamper: IdTokenTamper): Promise<void> {
    const body = ctx.body as { id_token?: string };
    if (!body.id_token) return;
    const claims = tamper.claims ? tamper.claims(decodeJwt(body.id_token)) : decodeJwt(body.id_token);
    const key = await importJWK(tamper.forgeSignature ? forged : published, 'RS256');
    body.id_token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: published.kid! }).sign(key);
  }

  function withoutIss(ctx: Context): void {
    const location = ctx.response.get('location');
    if (location && /[?&]iss=/.test(location)) {
      const url = new URL(location);
      url.searchParams.delete('iss');
      ctx.set('location', url.toString());
    }
    if (typeof ctx.body === 'string') ctx.body = ctx.body.replace(/<input type="hidden" name="iss" value="[^"]*"\/>/, '');
  }

  function addUserField(ctx: Context): void {
    const person = standIn.next as UpstreamPerson;
    const user = JSON.stringify({ name: { firstName: person.given_name, lastName: person.family_name }, email: person.email });
    const escaped = user.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    ctx.body = (ctx.body as string).replace('<noscript>', `<input type="hidden" name="user" value="${escaped}"/>\n    <noscript>`);
  }

  return standIn;
}
