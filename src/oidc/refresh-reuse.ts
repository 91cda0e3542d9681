import type { Context } from 'koa';
import type { Database } from '../db/database.js';
import { preparedStatement, type StatementRunner } from '../db/prepared-statements.js';
import type { Sealer } from '../security/sealing.js';
import type { ConsumeAnswers, ConsumeWrite } from './request-writes.js';

/**
 * A rotated refresh token stays usable this long after its first use, so two
 * instances (or a client retrying a request whose answer it lost) racing on
 * one token do not trip oidc-provider's replay detection, which revokes the
 * whole grant. A use within the window gets the answer the first use got;
 * a use after it is a replay.
 */
export const REFRESH_TOKEN_REUSE_SECONDS = 3;

const WINDOW = `interval '${REFRESH_TOKEN_REUSE_SECONDS} seconds'`;

const statements = {
  kept: preparedStatement(
    'refresh_reuse_kept',
    `select reuse_response_sealed from oidc_models
      where model = 'RefreshToken' and id = ? and reuse_response_sealed is not null and consumed_at > now() - ${WINDOW}`,
  ),
};

interface TokenResponse {
  access_token: string;
  refresh_token?: string;
}

const isTokenResponse = (body: unknown): body is TokenResponse =>
  typeof body === 'object' && body !== null && typeof (body as TokenResponse).access_token === 'string';

/**
 * RFC 9700 4.14.2 without forking the chain: the refresh that consumes a
 * token keeps its answer, sealed (it holds live tokens), on that token, in
 * the statement that consumes it (src/oidc/request-writes.ts). A request that
 * presented the same token and lost the consume answers with that, so both
 * hold the same successor; oidc-provider authenticated the client and
 * checked it owns the token before either got this far. Nothing else the
 * loser minted was stored.
 */
export function createRefreshReuse(run: StatementRunner, sealer: Sealer): ConsumeAnswers {
  return {
    keep(ctx: Context, consume: ConsumeWrite): string | null {
      if (consume.model !== 'RefreshToken' || ctx.status !== 200 || !isTokenResponse(ctx.body)) return null;
      return sealer.seal(JSON.stringify(ctx.body));
    },

    async answerAgain(ctx: Context, consume: ConsumeWrite): Promise<boolean> {
      if (consume.model !== 'RefreshToken') return false;
      const kept = (await run<{ reuse_response_sealed: string }>(statements.kept, [consume.id])).rows[0];
      if (!kept) return false;
      ctx.status = 200;
      ctx.body = JSON.parse(sealer.open(kept.reuse_response_sealed));
      ctx.set('Cache-Control', 'no-store');
      ctx.remove('Location');
      return true;
    },
  };
}

/**
 * Clears kept answers whose window has passed, in batches so one run never
 * holds a long lock; the consumed tokens stay, as oidc-provider's replay
 * detection needs them. Returns how many were cleared.
 */
export async function forgetReuseResponses(db: Database, batchSize = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db.raw(
      // By ctid, with skip locked, for the reasons deleteExpiredModels gives (src/oidc/adapter.ts).
      `update oidc_models set reuse_response_sealed = null where ctid = any(array(
         select ctid from oidc_models
          where reuse_response_sealed is not null and consumed_at <= now() - ${WINDOW}
          limit ? for update skip locked
       ))`,
      [batchSize],
    );
    const cleared = Number(result.rowCount ?? result.affectedRows ?? 0);
    total += cleared;
    if (cleared < batchSize) return total;
  }
}
