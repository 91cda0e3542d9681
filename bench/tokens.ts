import { authorizationCodeFlow } from './browser.js';
import { basicAuthorization, type Person, type ServerInfo } from './target.js';

export const personFor = (server: ServerInfo, index: number): Person | undefined =>
  server.people.length ? server.people[index % server.people.length] : undefined;

export const originFor = (server: ServerInfo, index: number): string => server.origins[index % server.origins.length]!;

const accessTokens = new Map<ServerInfo, Promise<string>>();

/** A person's access token from a real code flow, obtained once per server (it lives an hour). */
export function userAccessToken(server: ServerInfo): Promise<string> {
  let token = accessTokens.get(server);
  if (!token) {
    token = authorizationCodeFlow(server, originFor(server, 0), personFor(server, 0), { scope: 'openid profile email' }).then(
      (t) => t.access_token,
    );
    accessTokens.set(server, token);
  }
  return token;
}

/**
 * `count` refresh tokens, each from its own sign-in in its own browser, so
 * each is a separate grant: rotating one never touches another.
 */
export async function refreshTokens(server: ServerInfo, count: number, offset = 0): Promise<string[]> {
  const tokens: string[] = [];
  // A few flows at a time: a burst of argon2 verifications would only queue up behind each other.
  const batch = 8;
  for (let start = 0; start < count; start += batch) {
    const size = Math.min(batch, count - start);
    tokens.push(
      ...(await Promise.all(
        Array.from({ length: size }, async (_, i) => {
          const index = offset + start + i;
          // offline_access is honoured only with prompt=consent (OIDC Core 11).
          const flow = await authorizationCodeFlow(server, originFor(server, index), personFor(server, index), {
            scope: 'openid profile email offline_access',
            prompt: 'consent',
          });
          if (!flow.refresh_token) throw new Error(`${server.label} issued no refresh token for offline_access`);
          return flow.refresh_token;
        }),
      )),
    );
  }
  return tokens;
}

/**
 * A management API token for the large account's back end: its own client,
 * client_credentials, `account:admin` for the resource `<issuer>/api`. Asked
 * for at each repeat, since it lives five minutes.
 */
export async function accountBackEndToken(server: ServerInfo): Promise<string> {
  const account = server.largeAccount;
  if (!account) throw new Error(`${server.label} has no large account to manage`);
  const response = await fetch(`${originFor(server, 0)}/token`, {
    method: 'POST',
    headers: {
      authorization: basicAuthorization(account.clientId, account.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'account:admin', resource: `${server.issuer}/api` }).toString(),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!response.ok || !body.access_token) throw new Error(`${server.label} refused the API token: ${response.status} ${JSON.stringify(body)}`);
  return body.access_token;
}
