import type { Database } from '../db/database.js';
import type { BackchannelLogout } from './backchannel-logout.js';

/** Deletes grants with every code and token issued under them. */
export async function revokeGrants(trx: Database, grantIds: string[]): Promise<void> {
  if (!grantIds.length) return;
  await trx('oidc_models').whereIn('grant_id', grantIds).delete();
  await trx('oidc_models').where('model', 'Grant').whereIn('id', grantIds).delete();
}

/** The grants a profile gave, optionally only those of one client. */
export function grantsOf(trx: Database, profileId: string, clientId?: string): Promise<string[]> {
  const query = trx('oidc_models').where('model', 'Grant').whereRaw("payload->>'accountId' = ?", [profileId]);
  if (clientId) query.whereRaw("payload->>'clientId' = ?", [clientId]);
  return query.pluck('id');
}

/** The part of oidc-provider's Session payload that says which clients the browser signed in to (lib/models/session.js). */
interface SessionPayload {
  accountId?: string;
  authorizations?: Record<string, { sid?: string; grantId?: string }>;
}

/** A profile's network sessions, optionally sparing one browser's. */
function sessionsOf(trx: Database, profileId: string, keepSessionId?: string) {
  const query = trx('oidc_models').where('model', 'Session').whereRaw("payload->>'accountId' = ?", [profileId]);
  if (keepSessionId) query.whereNot('id', keepSessionId);
  return query;
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
 * Ends a profile's presence everywhere: its network sessions, every grant it
 * gave, and the codes and tokens issued under those grants. Used after a
 * password recovery and when a profile is deleted. `keepSessionId` spares the
 * browser that made the change, with the grants it holds (a password change
 * signs out the others only).
 *
 * Returns the back-channel logouts the ended sessions' clients are owed;
 * the caller sends them once its transaction commits (notifyBackchannelLogout).
 */
export async function endProfileSessions(
  trx: Database,
  profileId: string,
  options: { keepSessionId?: string | undefined } = {},
): Promise<BackchannelLogout[]> {
  // The browser that stays keeps what it signed in to, or its accounts would lose their tokens unannounced.
  const kept = options.keepSessionId
    ? await trx('oidc_models').where({ model: 'Session', id: options.keepSessionId }).first<{ payload: SessionPayload } | undefined>('payload')
    : undefined;
  const keptGrants = new Set(Object.values(kept?.payload.authorizations ?? {}).flatMap((a) => (a.grantId ? [a.grantId] : [])));
  await revokeGrants(trx, (await grantsOf(trx, profileId)).filter((id) => !keptGrants.has(id)));
  // Read and deleted in one statement, so every session that goes is one its clients hear about.
  const ended: Array<{ payload: SessionPayload }> = await sessionsOf(trx, profileId, options.keepSessionId).delete(['payload']);
  return logoutsIn(ended);
}

/**
 * Ends what a profile holds at one client: the grants (with their codes and
 * tokens) it gave that client. The network sessions stay, but the client is
 * owed a back-channel logout for each of them that signed in to it; the
 * caller sends those once its transaction commits.
 */
export async function endClientSessions(trx: Database, profileId: string, clientId: string): Promise<BackchannelLogout[]> {
  await revokeGrants(trx, await grantsOf(trx, profileId, clientId));
  return logoutsIn(await sessionsOf(trx, profileId).select('payload'), clientId);
}
