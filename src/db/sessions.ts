import type { BackchannelLogout } from '../oidc/backchannel-logout.js';
import type { Database } from './database.js';

/** The part of oidc-provider's Session payload that says which clients the browser signed in to (lib/models/session.js). */
interface SessionPayload {
  accountId?: string;
  authorizations?: Record<string, { sid?: string; grantId?: string }>;
}

/** The (client, sid) pairs in these sessions, optionally only one client's. */
function logoutsIn(rows: Array<{ payload: SessionPayload }>, clientId?: string): BackchannelLogout[] {
  return rows.flatMap(({ payload }) => {
    const sub = payload.accountId;
    if (!sub) return [];
    return Object.entries(payload.authorizations ?? {}).flatMap(([client, { sid }]) =>
      sid && (!clientId || client === clientId) ? [{ clientId: client, sub, sid }] : [],
    );
  });
}

/**
 * A profile's presence in oidc-provider's storage: its network sessions, the
 * grants it gave, and the codes and tokens issued under them. Ending them
 * returns the back-channel logouts the sessions' clients are owed; the caller
 * sends them once its transaction commits (notifyBackchannelLogout).
 */
export function createSessionQueries(db: Database) {
  /** Deletes grants with every code and token issued under them. */
  async function revokeGrants(grantIds: string[]): Promise<void> {
    if (!grantIds.length) return;
    await db('oidc_models').whereIn('grant_id', grantIds).delete();
    await db('oidc_models').where('model', 'Grant').whereIn('id', grantIds).delete();
  }

  /** The grants a profile gave, optionally only those of one client. */
  function grantsOf(profileId: string, clientId?: string): Promise<string[]> {
    const query = db('oidc_models').where('model', 'Grant').whereRaw("payload->>'accountId' = ?", [profileId]);
    if (clientId) query.whereRaw("payload->>'clientId' = ?", [clientId]);
    return query.pluck('id');
  }

  /** A profile's network sessions, optionally sparing one browser's. */
  function sessionsOf(profileId: string, keepSessionId?: string) {
    const query = db('oidc_models').where('model', 'Session').whereRaw("payload->>'accountId' = ?", [profileId]);
    if (keepSessionId) query.whereNot('id', keepSessionId);
    return query;
  }

  return {
    /**
     * Ends a profile's presence everywhere: its network sessions, every grant
     * it gave, and the codes and tokens issued under those grants.
     * `keepSessionId` spares the browser that made the change, with the grants
     * it holds (a password change signs out the others only).
     */
    async endProfileSessions(profileId: string, options: { keepSessionId?: string | undefined } = {}): Promise<BackchannelLogout[]> {
      // The browser that stays keeps what it signed in to, or its accounts would lose their tokens unannounced.
      const kept = options.keepSessionId
        ? await db('oidc_models').where({ model: 'Session', id: options.keepSessionId }).first<{ payload: SessionPayload } | undefined>('payload')
        : undefined;
      const keptGrants = new Set(Object.values(kept?.payload.authorizations ?? {}).flatMap((a) => (a.grantId ? [a.grantId] : [])));
      await revokeGrants((await grantsOf(profileId)).filter((id) => !keptGrants.has(id)));
      // Read and deleted in one statement, so every session that goes is one its clients hear about.
      const ended: Array<{ payload: SessionPayload }> = await sessionsOf(profileId, options.keepSessionId).delete(['payload']);
      return logoutsIn(ended);
    },

    /**
     * Ends one network session of a profile (one browser): the session, the
     * grants it signed in with and every code and token issued under them. The
     * other sessions keep theirs. Undefined when the profile has no such session.
     */
    async endSession(profileId: string, sessionUid: string): Promise<BackchannelLogout[] | undefined> {
      const ended: Array<{ payload: SessionPayload }> = await sessionsOf(profileId).where('uid', sessionUid).delete(['payload']);
      if (!ended.length) return undefined;
      const grants = ended.flatMap(({ payload }) => Object.values(payload.authorizations ?? {}).flatMap((a) => (a.grantId ? [a.grantId] : [])));
      await revokeGrants(grants);
      return logoutsIn(ended);
    },

    /**
     * Ends what a profile holds at one client: the grants (with their codes
     * and tokens) it gave that client. The network sessions stay, but the
     * client is owed a back-channel logout for each of them that signed in to it.
     */
    async endClientSessions(profileId: string, clientId: string): Promise<BackchannelLogout[]> {
      await revokeGrants(await grantsOf(profileId, clientId));
      return logoutsIn(await sessionsOf(profileId).select('payload'), clientId);
    },

    /**
     * Every grant given to a client, by anyone, with its codes and tokens, and
     * what it holds outside a grant (client credentials tokens, pushed
     * requests): the client is going away. A rare operator's step, so it may
     * read the whole table.
     */
    async revokeClientGrants(clientId: string): Promise<void> {
      const grants = await db('oidc_models').where('model', 'Grant').whereRaw("payload->>'clientId' = ?", [clientId]).pluck('id');
      await revokeGrants(grants);
      await db('oidc_models').whereNot('model', 'Session').whereRaw("payload->>'clientId' = ?", [clientId]).delete();
    },
  };
}

export type SessionQueries = ReturnType<typeof createSessionQueries>;
