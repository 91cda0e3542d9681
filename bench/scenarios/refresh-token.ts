import { cannon, type DynamicRequest } from '../load.js';
import { basicAuthorization, type ServerInfo } from '../target.js';
import { refreshTokens } from '../tokens.js';
import type { Scenario } from './scenario.js';

/**
 * Refresh tokens ready to be used, per server. Each answer puts the token it
 * returned back in, so every request uses the token an earlier one returned;
 * a request cut off when the time is up loses its chain, hence the top-up.
 */
const pools = new Map<ServerInfo, { tokens: string[]; issued: number }>();

async function poolFor(server: ServerInfo, wanted: number): Promise<string[]> {
  let pool = pools.get(server);
  if (!pool) {
    pool = { tokens: [], issued: 0 };
    pools.set(server, pool);
  }
  const missing = wanted - pool.tokens.length;
  if (missing > 0) {
    pool.tokens.push(...(await refreshTokens(server, missing, pool.issued)));
    pool.issued += missing;
  }
  return pool.tokens;
}

/** A token that is never valid, sent when every chain is in flight or lost: it counts as an error, not as a stall. */
const EXHAUSTED = 'no-refresh-token-left';

/** An account's backend renewing a person's tokens: rotation means one write more than a lookup. */
export const refreshToken: Scenario = {
  name: 'refresh_token',
  async measure(server, load) {
    // A quarter more chains than connections, so a few lost ones do not starve the load.
    const tokens = await poolFor(server, Math.ceil(load.connections * 1.25) + 2);
    const dynamic: DynamicRequest = {
      nextBody: () => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.shift() ?? EXHAUSTED }).toString(),
      onAnswer(status, body) {
        if (status !== 200) return;
        try {
          const next = (JSON.parse(body) as { refresh_token?: unknown }).refresh_token;
          if (typeof next === 'string') tokens.push(next);
        } catch {
          // A body that is not JSON is already counted as a wrong answer.
        }
      },
    };
    return cannon(
      server.origins,
      {
        method: 'POST',
        path: '/token',
        headers: {
          authorization: basicAuthorization(server.accountClient.clientId, server.accountClient.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `grant_type=refresh_token&refresh_token=${EXHAUSTED}`,
        expect: '"refresh_token"',
      },
      load,
      dynamic,
    );
  },
};
