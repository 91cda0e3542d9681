import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Actor } from '../db/audit.js';
import type { Database } from '../db/database.js';
import type { FederationBinding } from '../db/federation-requests.js';
import type { Queries } from '../db/queries.js';
import type { Metrics } from '../operations/metrics.js';
import { ok, refuse, type Outcome, type ProblemTable } from '../outcome.js';
import type { Sealer } from '../security/sealing.js';
import { createAttemptCounter } from '../security/rate-limits.js';
import { UpstreamFailure, type CallbackRequest, type Checks, type UpstreamIdentity } from './provider.js';
import type { FederationRegistry } from './registry.js';

/** How long a person has at the provider before the round trip is forgotten. */
const REQUEST_TTL_SECONDS = 10 * 60;
/** Answers with a state NetID does not know, per client address in 15 minutes, before it stops listening. */
const REFUSED_STATES_PER_ADDRESS = 20;

export type FederationProblem = 'provider-unknown' | 'unavailable' | 'state-invalid' | 'denied' | 'upstream-failed' | 'throttled';

/** What a person reads for each problem of a round trip; each returns them to where they started, never to a server error. */
export const FEDERATION_PROBLEMS: ProblemTable<FederationProblem> = {
  'provider-unknown': { status: 404, messageKey: 'federation.unknown' },
  unavailable: { status: 503, messageKey: 'federation.unavailable' },
  'state-invalid': { status: 400, messageKey: 'federation.state_invalid' },
  denied: { status: 400, messageKey: 'federation.denied' },
  // A refused answer is as often a forgery or a misconfiguration as the provider's fault: not a server error of NetID's.
  'upstream-failed': { status: 400, messageKey: 'federation.failed' },
  throttled: { status: 429, messageKey: 'federation.throttled' },
};

/**
 * Where a provider's answer belongs, read from its state alone: NetID
 * registers one callback address per provider, and that address passes the
 * answer on to the sign-in (`i.<interaction uid>.<random>`) or the signed-in
 * page (`n.<random>`) that started the round trip, where the browser's own
 * cookies arrive (src/federation/callback-router.ts).
 */
export type StateRoute = { kind: 'interaction'; uid: string } | { kind: 'network' };

const INTERACTION_STATE = /^i\.([A-Za-z0-9_-]{1,64})\.[A-Za-z0-9_-]{43}$/;
const NETWORK_STATE = /^n\.[A-Za-z0-9_-]{43}$/;

export function routeOfState(state: string | null | undefined): StateRoute | undefined {
  if (!state) return undefined;
  const interaction = INTERACTION_STATE.exec(state);
  if (interaction) return { kind: 'interaction', uid: interaction[1]! };
  return NETWORK_STATE.test(state) ? { kind: 'network' } : undefined;
}

const newState = (binding: FederationBinding) =>
  `${'interactionUid' in binding ? `i.${binding.interactionUid}.` : 'n.'}${randomBytes(32).toString('base64url')}`;

/** Only a hash of the state is stored: a copy of the table cannot be used to answer for anyone. */
const hashOf = (state: string) => createHash('sha256').update(state).digest('base64url');

/**
 * Why a round trip failed, for the log: the messages and codes down the chain
 * of causes, and nothing else. The errors carry the provider's answer, ID
 * token claims included (a person's email and names), which the log must not.
 */
export function reasonOf(error: unknown): string {
  const reasons: string[] = [];
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    reasons.push(typeof code === 'string' ? `${cause.message} (${code})` : cause.message);
  }
  return reasons.join(': ') || String(error);
}

const sameBinding = (a: FederationBinding, b: FederationBinding) =>
  'interactionUid' in a ? 'interactionUid' in b && a.interactionUid === b.interactionUid : 'profileId' in b && a.profileId === b.profileId && a.sessionId === b.sessionId;

export interface FederationServiceDependencies {
  registry: FederationRegistry;
  queries: Queries;
  db: Database;
  sealer: Sealer;
  logger: Logger;
  metrics: Pick<Metrics, 'rateLimitRefusals'>;
}

/**
 * Round trips to upstream providers: `begin` sends the browser off with a
 * state bound to what started it; `finish` takes the provider's answer, once,
 * for the same sign-in or browser only, and gives the identity the provider
 * vouches for. What a person may then do with it is the profile's rules.
 *
 * Starting one is not limited: it costs what any authorization request costs
 * (a row that expires), and many people behind one address (an office) sign
 * in with the same provider every morning. What could be guessed, an answer's
 * state, is: answers with states NetID does not know are counted per address.
 * Profiles made through a provider count against the sign-up limit.
 */
export function createFederationService(deps: FederationServiceDependencies) {
  const refusedStates = createAttemptCounter(deps.db, 'federation-refused', 15 * 60);

  const refusal = (resetAt: number) => {
    deps.metrics.rateLimitRefusals.inc({ limit: 'social_login' });
    return refuse('throttled' as const, { retryAfterSeconds: Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)) });
  };

  return {
    providers: () => deps.registry.list(),
    find: (id: string) => deps.registry.find(id),

    async begin(providerId: string, binding: FederationBinding, actor: Actor): Promise<Outcome<{ url: string }, FederationProblem>> {
      const provider = deps.registry.find(providerId);
      if (!provider) return refuse('provider-unknown');
      const state = newState(binding);
      const checks: Checks = {};
      let url: string;
      try {
        url = await provider.authorizationUrl(state, checks);
      } catch (error) {
        deps.logger.warn({ provider: providerId, reason: reasonOf(error) }, 'social login provider could not be reached');
        return refuse('unavailable');
      }
      await deps.queries.federationRequests.insert(hashOf(state), { provider: providerId, binding, checksSealed: deps.sealer.seal(JSON.stringify(checks)) }, REQUEST_TTL_SECONDS);
      return ok({ url });
    },

    async finish(providerId: string, callback: CallbackRequest, binding: FederationBinding, actor: Actor): Promise<Outcome<{ identity: UpstreamIdentity }, FederationProblem>> {
      const provider = deps.registry.find(providerId);
      if (!provider) return refuse('provider-unknown');
      const refused = await refusedStates.peek(actor.ip ?? '');
      if (refused.attempts >= REFUSED_STATES_PER_ADDRESS) return refusal(refused.resetAt);
      const state = (callback.form ?? callback.query).get('state');
      const request = state ? await deps.queries.federationRequests.consume(hashOf(state)) : undefined;
      if (!request || request.provider !== providerId || !sameBinding(request.binding, binding)) {
        await refusedStates.record(actor.ip ?? '');
        await deps.queries.audit.record({ kind: 'federation.state_refused', actor, detail: { provider: providerId, known: Boolean(request) } });
        return refuse('state-invalid');
      }
      try {
        const identity = await provider.identityFrom(callback, JSON.parse(deps.sealer.open(request.checksSealed)) as Checks);
        if (!identity.subject || !identity.issuer) throw new UpstreamFailure('failed', 'the provider named no subject');
        return ok({ identity });
      } catch (error) {
        const denied = error instanceof UpstreamFailure && error.kind === 'denied';
        if (!denied) deps.logger.warn({ provider: providerId, reason: reasonOf(error) }, 'social login answer refused');
        await deps.queries.audit.record({ kind: denied ? 'federation.denied' : 'federation.failed', actor, detail: { provider: providerId } });
        return refuse(denied ? 'denied' : 'upstream-failed');
      }
    },
  };
}

export type FederationService = ReturnType<typeof createFederationService>;
