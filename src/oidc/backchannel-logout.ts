import type Provider from 'oidc-provider';
import type { Logger } from 'pino';

/** One relying-party session to end: the client, the person (`sub`) and the `sid` its ID tokens carried. */
export interface BackchannelLogout {
  clientId: string;
  sub: string;
  sid: string;
}

/** What sending logout tokens needs; NetidContext has both. */
export interface BackchannelLogoutDependencies {
  provider: Provider;
  logger: Logger;
}

/**
 * The part of oidc-provider's Client that end_session.js uses to log a client
 * out (lib/models/client.js); @types/oidc-provider does not declare it.
 */
interface LoggingOutClient {
  clientId: string;
  backchannelLogoutUri?: string;
  backchannelLogout(sub: string, sid: string): Promise<void>;
}

/** Deliveries not yet finished, per provider, so that shutting down can wait for them. */
const inFlight = new WeakMap<Provider, Set<Promise<void>>>();

/**
 * Tells each client that registered a `backchannel_logout_uri` that these
 * sessions ended, with oidc-provider's own logout tokens. Call it once the
 * transaction that ended them has committed: a client told too early could
 * sign the person in again before the rows are gone, and a rollback cannot
 * take a logout back. It returns at once; a slow, failing or unreachable
 * receiver is the client's problem, logged here, never the person's.
 */
export function notifyBackchannelLogout(provider: Provider, logger: Logger, logouts: readonly BackchannelLogout[]): void {
  if (!logouts.length) return;
  const pending = inFlight.get(provider) ?? new Set<Promise<void>>();
  inFlight.set(provider, pending);
  const byClient = new Map<string, BackchannelLogout[]>();
  for (const logout of logouts) byClient.set(logout.clientId, [...(byClient.get(logout.clientId) ?? []), logout]);
  for (const [clientId, sessions] of byClient) {
    const delivery = deliverTo(provider, logger, clientId, sessions).finally(() => pending.delete(delivery));
    pending.add(delivery);
  }
}

/** Resolves once every delivery started so far has finished: oidc-provider gives each request 2.5 s at most. */
export async function backchannelLogoutsSettled(provider: Provider): Promise<void> {
  await Promise.all([...(inFlight.get(provider) ?? [])]);
}

/** Every session of one client at once, so that all of them are done within oidc-provider's 2.5 s. Never rejects. */
async function deliverTo(provider: Provider, logger: Logger, clientId: string, sessions: BackchannelLogout[]): Promise<void> {
  let client: LoggingOutClient | undefined;
  try {
    // No request is needed: the logout token is built without one (ctx: undefined), as end_session.js does.
    client = (await provider.Client.find(clientId)) as unknown as LoggingOutClient | undefined;
  } catch (error) {
    logger.warn({ clientId, reason: reasonOf(error) }, 'back-channel logout not sent: client not loaded');
    return;
  }
  if (!client?.backchannelLogoutUri) return;
  const receiver = client;
  await Promise.all(
    sessions.map(async ({ sub, sid }) => {
      try {
        await receiver.backchannelLogout(sub, sid);
        logger.info({ clientId }, 'back-channel logout delivered');
      } catch (error) {
        // As oidc-provider reports its own (end_session): one listener logs and counts every failed delivery.
        provider.emit('backchannel.error', undefined, error, receiver, sub, sid);
      }
    }),
  );
}

/**
 * Why a delivery failed, without what must stay out of logs: the receiver's
 * URI may carry credentials in its query, and the error oidc-provider throws
 * for a bad status names that URI and holds the whole response.
 */
export function reasonOf(error: unknown): string {
  const failure = error as { name?: string; message?: string; cause?: { code?: string; message?: string }; response?: { status?: number } };
  if (typeof failure.response?.status === 'number') return `receiver answered ${failure.response.status}`;
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError') return 'receiver did not answer in time';
  return failure.cause?.code ?? failure.cause?.message ?? failure.message ?? String(error);
}
