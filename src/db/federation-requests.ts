import type { Database } from './database.js';

/** What a round trip to a provider is bound to: a sign-in in progress, or a signed-in browser connecting an identity. */
export type FederationBinding = { interactionUid: string } | { profileId: string; sessionId: string };

export interface FederationRequest {
  provider: string;
  binding: FederationBinding;
  /** Sealed (KEY_ENCRYPTION_KEY): the PKCE verifier, nonce and state the provider's answer is checked against. */
  checksSealed: string;
}

interface Row {
  state_hash: string;
  provider: string;
  interaction_uid: string | null;
  profile_id: string | null;
  session_id: string | null;
  checks_sealed: string;
  expires_at: Date;
}

export function createFederationRequestQueries(db: Database) {
  return {
    async insert(stateHash: string, request: FederationRequest, ttlSeconds: number): Promise<void> {
      const binding = request.binding;
      await db('federation_requests').insert({
        state_hash: stateHash,
        provider: request.provider,
        interaction_uid: 'interactionUid' in binding ? binding.interactionUid : null,
        profile_id: 'profileId' in binding ? binding.profileId : null,
        session_id: 'sessionId' in binding ? binding.sessionId : null,
        checks_sealed: request.checksSealed,
        expires_at: new Date(Date.now() + ttlSeconds * 1000),
      });
    },

    /**
     * Takes the request out in one statement: of two answers carrying the same
     * state (a replay, or a double submit), only one finds it.
     */
    async consume(stateHash: string): Promise<FederationRequest | undefined> {
      const [row] = (await db('federation_requests').where({ state_hash: stateHash }).delete().returning('*')) as Row[];
      if (!row || new Date(row.expires_at).getTime() <= Date.now()) return undefined;
      const binding: FederationBinding = row.interaction_uid
        ? { interactionUid: row.interaction_uid }
        : { profileId: row.profile_id!, sessionId: row.session_id! };
      return { provider: row.provider, binding, checksSealed: row.checks_sealed };
    },
  };
}

/** Requests nobody came back for; deleted by the expired-row cleanup. */
export async function deleteExpiredFederationRequests(db: Database): Promise<number> {
  const result = await db.raw('delete from federation_requests where expires_at < now()');
  return Number(result.rowCount ?? result.affectedRows ?? 0);
}

export type FederationRequestQueries = ReturnType<typeof createFederationRequestQueries>;
