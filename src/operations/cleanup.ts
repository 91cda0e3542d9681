import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { deleteExpiredFederationRequests } from '../db/federation-requests.js';
import { deleteOldIdempotencyKeys } from '../db/idempotency.js';
import { createProfileSessionQueries } from '../db/profile-sessions.js';
import { deleteExpiredModels } from '../oidc/adapter.js';
import { forgetReuseResponses } from '../oidc/refresh-reuse.js';
import { TOKEN_LIFETIMES } from '../oidc/token-lifetimes.js';
import { deleteOldCodes } from '../profile/one-time-codes.js';
import { deleteExpiredRateLimits } from '../security/rate-limits.js';

/**
 * Periodically deletes expired tokens, sessions, rate-limit counters, one-time
 * codes, round trips to social-login providers nobody came back from,
 * management API answers kept for retries past their 24 hours and where
 * long-gone sessions signed in from, so
 * the tables stay bounded, and clears the answers refreshes kept for a reuse
 * once its window has passed: they hold live tokens and are no use after it.
 */
export function startCleanup(db: Database, logger: Logger, intervalSeconds: number): () => Promise<void> {
  if (intervalSeconds <= 0) return async () => {};
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= (async () => {
      try {
        const models = await deleteExpiredModels(db);
        const reuseResponses = await forgetReuseResponses(db);
        const limits = await deleteExpiredRateLimits(db);
        const codes = await deleteOldCodes(db);
        const federationRequests = await deleteExpiredFederationRequests(db);
        const idempotencyKeys = await deleteOldIdempotencyKeys(db);
        // Where a session signed in from outlives nothing: no session lasts longer unseen.
        const sessions = await createProfileSessionQueries(db).deleteStale(Number(TOKEN_LIFETIMES.Session));
        if (models || reuseResponses || limits || codes || federationRequests || idempotencyKeys || sessions) {
          logger.info({ models, reuseResponses, limits, codes, federationRequests, idempotencyKeys, sessions }, 'expired rows deleted');
        }
      } catch (error) {
        logger.warn({ err: error }, 'cleanup of expired rows failed; will retry');
      } finally {
        running = undefined;
      }
    })();
  };
  const timer = setInterval(run, intervalSeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
