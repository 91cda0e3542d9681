import type { Database } from '../db/database.js';

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

/**
 * Ends a profile's presence everywhere: its network sessions, every grant it
 * gave, and the codes and tokens issued under those grants. Used after a
 * password recovery and when a profile is deleted. `keepSessionId` spares the
 * browser that made the change (a password change signs out the others only).
 */
export async function endProfileSessions(
  trx: Database,
  profileId: string,
  options: { keepSessionId?: string | undefined } = {},
): Promise<void> {
  await revokeGrants(trx, await grantsOf(trx, profileId));
  const sessions = trx('oidc_models').where('model', 'Session').whereRaw("payload->>'accountId' = ?", [profileId]);
  if (options.keepSessionId) sessions.whereNot('id', options.keepSessionId);
  await sessions.delete();
}
