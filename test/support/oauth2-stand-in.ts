import { createHash, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

/** Who the stand-in authorizes at its next request, or what it answers instead. */
export interface OAuthPerson {
  id: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  picture?: boolean;
}

export type OAuthAnswer = OAuthPerson | { error: 'access_denied' | 'server_error' };

export interface OAuth2StandIn {
  origin: string;
  next: OAuthAnswer;
  /** Authorization requests received (state, PKCE challenge, scope). */
  authorizations: URLSearchParams[];
  stop(): Promise<void>;
}

interface Grant {
  person: OAuthPerson;
  redirectUri: string;
  challenge: string | undefined;
}

/**
 * A small OAuth 2.0 server on loopback that answers as Facebook's Graph API
 * or X's API v2 do towards a web application: an authorization endpoint that
 * redirects back with a code and the state, a token endpoint that checks the
 * client, the redirect URI and the PKCE verifier, and the provider's own
 * profile endpoint (`/me`) in its own shape.
 */
export async function startOAuth2StandIn(options: { flavour: 'facebook' | 'twitter'; clientId: string; clientSecret: string; redirectUri: string }): Promise<OAuth2StandIn> {
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, OAuthPerson>();
  const picture = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#3b5998' } }).jpeg().toBuffer();
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const standIn: OAuth2StandIn = {
    origin,
    next: { id: 'nobody' },
    authorizations: [],
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readForm = async (req: http.IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  };

  function authorize(url: URL, res: http.ServerResponse): void {
    const params = url.searchParams;
    standIn.authorizations.push(params);
    if (params.get('client_id') !== options.clientId || params.get('redirect_uri') !== options.redirectUri || params.get('response_type') !== 'code') {
      return json(res, 400, { error: 'invalid_request' });
    }
    const back = new URL(options.redirectUri);
    const state = params.get('state');
    const answer = standIn.next;
    if ('error' in answer) {
      back.searchParams.set('error', answer.error);
      back.searchParams.set('error_description', 'the stand-in was told to refuse');
    } else {
      const code = randomBytes(16).toString('hex');
      codes.set(code, { person: answer, redirectUri: options.redirectUri, challenge: params.get('code_challenge') ?? undefined });
      back.searchParams.set('code', code);
    }
    if (state) back.searchParams.set('state', state);
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  async function token(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const form = await readForm(req);
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [basicId, basicSecret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    const clientId = basicId ?? form.get('client_id');
    const clientSecret = basicSecret ?? form.get('client_secret');
    if (clientId !== options.clientId || clientSecret !== options.clientSecret) return json(res, 401, { error: 'invalid_client' });
    const grant = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    if (!grant || form.get('redirect_uri') !== grant.redirectUri) return json(res, 400, { error: 'invalid_grant' });
    if (grant.challenge) {
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE' });
    }
    const accessToken = randomBytes(16).toString('hex');
    tokens.set(accessToken, grant.person);
    json(res, 200, { access_token: accessToken, token_type: 'bearer', expires_in: 3600 });
  }

  function me(url: URL, req: http.IncomingMessage, res: http.ServerResponse): void {
    const accessToken = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? url.searchParams.get('access_token') ?? '';
    const person = tokens.get(accessToken);
    if (!person) return json(res, 401, { error: { message: 'invalid token', type: 'OAuthException', code: 190 } });
    const photo = person.picture ? `${origin}/picture.jpg` : undefined;
    if (options.flavour === 'facebook') {
      // Graph API: appsecret_proof proves the call comes from the app's server.
      const proof = createHmac('sha256', options.clientSecret).update(accessToken).digest('hex');
      if (url.searchParams.get('appsecret_proof') !== proof) return json(res, 400, { error: { message: 'Invalid appsecret_proof', type: 'GraphMethodException', code: 100 } });
      return json(res, 200, {
        id: person.id,
        first_name: person.firstName,
        last_name: person.lastName,
        ...(person.email ? { email: person.email } : {}),
        picture: { data: photo ? { url: photo, is_silhouette: false } : { is_silhouette: true } },
      });
    }
    const fields = (url.searchParams.get('user.fields') ?? '').split(',');
    json(res, 200, {
      data: {
        id: person.id,
        username: `user${person.id}`,
        name: [person.firstName, person.lastName].filter(Boolean).join(' '),
        ...(photo && fields.includes('profile_image_url') ? { profile_image_url: photo } : {}),
        ...(person.email && fields.includes('confirmed_email') ? { confirmed_email: person.email } : {}),
      },
    });
  }

  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (req.method === 'GET' && url.pathname === '/authorize') return authorize(url, res);
    if (req.method === 'POST' && url.pathname === '/token') return void token(req, res);
    if (req.method === 'GET' && url.pathname === '/me') return me(url, req, res);
    if (req.method === 'GET' && url.pathname === '/picture.jpg') {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      return res.end(picture);
    }
    json(res, 404, { error: 'not_found' });
  });
  return standIn;
}
