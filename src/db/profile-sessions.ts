import type { Database } from './database.js';

/** A network session of a profile as the person sees it on the Security page. */
export interface ProfileSessionRow {
  /** oidc-provider's Session id (it changes at each sign-in in that browser). */
  id: string;
  /** oidc-provider's Session uid (it stays for the browser's session). */
  uid: string;
  /** The clients this browser signed in to, by client id. */
  clientIds: string[];
  /** When the session's last sign-in happened (oidc-provider's loginTs). */
  signedInAt: Date | null;
  userAgent: string | null;
  ip: string | null;
  firstSeenAt: Date | null;
  lastSeenAt: Date | null;
}

/** Long user agents are cut: the page shows them to people, it does not store whatever a client sends. */
const MAX_USER_AGENT = 300;

interface SessionJoinRow {
  id: string;
  uid: string;
  payload: { loginTs?: number; authorizations?: Record<string, unknown> };
  user_agent: string | null;
  ip: string | null;
  first_seen_at: Date | null;
  last_seen_at: Date | null;
}

/**
 * Where a profile's network sessions sign in from, beside oidc-provider's own
 * Session rows (keyed by their uid), and the browsers (device markers) a
 * profile has signed in from.
 */
export function createProfileSessionQueries(db: Database) {
  return {
    /** A sign-in finished in this session: who, from where; the first time it is seen stays. */
    async record(session: { sessionUid: string; profileId: string; userAgent: string | null; ip: string | null }): Promise<void> {
      await db.raw(
        `insert into profile_sessions (session_uid, profile_id, user_agent, ip) values (?, ?, ?, ?)
         on conflict (session_uid) do update set
           profile_id = excluded.profile_id, user_agent = excluded.user_agent, ip = excluded.ip, last_seen_at = now(),
           first_seen_at = case when profile_sessions.profile_id = excluded.profile_id then profile_sessions.first_seen_at else now() end`,
        [session.sessionUid, session.profileId, session.userAgent?.slice(0, MAX_USER_AGENT) ?? null, session.ip],
      );
    },

    /** The session was used again; at most once a minute is written. */
    async touch(sessionUid: string, ip: string | null): Promise<void> {
      await db.raw(
        "update profile_sessions set last_seen_at = now(), ip = coalesce(?, ip) where session_uid = ? and last_seen_at < now() - interval '1 minute'",
        [ip, sessionUid],
      );
    },

    /** The profile's live network sessions, the most recently seen first. */
    async list(profileId: string): Promise<ProfileSessionRow[]> {
      const rows: SessionJoinRow[] = await db('oidc_models as s')
        .leftJoin('profile_sessions as p', 'p.session_uid', 's.uid')
        .where('s.model', 'Session')
        .whereRaw("s.payload->>'accountId' = ?", [profileId])
        .whereRaw('(s.expires_at is null or s.expires_at > now())')
        .select('s.id', 's.uid', 's.payload', 'p.user_agent', 'p.ip', 'p.first_seen_at', 'p.last_seen_at');
      return rows
        .map((row) => ({
          id: row.id,
          uid: row.uid,
          clientIds: Object.keys(row.payload.authorizations ?? {}),
          signedInAt: row.payload.loginTs ? new Date(row.payload.loginTs * 1000) : null,
          userAgent: row.user_agent,
          ip: row.ip,
          firstSeenAt: row.first_seen_at,
          lastSeenAt: row.last_seen_at,
        }))
        .sort((a, b) => (b.lastSeenAt?.getTime() ?? 0) - (a.lastSeenAt?.getTime() ?? 0));
    },

    /** Rows whose session has not been seen for longer than a session can live. */
    async deleteStale(olderThanSeconds: number): Promise<number> {
      const result = await db.raw('delete from profile_sessions where last_seen_at < now() - make_interval(secs => ?)', [olderThanSeconds]);
      return Number(result.rowCount ?? result.affectedRows ?? 0);
    },

    devices: {
      async count(profileId: string): Promise<number> {
        const row = await db('profile_devices').where({ profile_id: profileId }).count<{ count: string | number }[]>('* as count').first();
        return Number(row?.count ?? 0);
      },

      /** Keeps the `keep` most recently first seen browsers of the profile; older ones would be announced again. */
      async forgetAllBut(profileId: string, keep: number): Promise<void> {
        await db.raw(
          `delete from profile_devices where profile_id = ? and device_hash not in (
             select device_hash from profile_devices where profile_id = ? order by first_seen_at desc limit ?)`,
          [profileId, profileId, keep],
        );
      },

      /** Remembers the browser for the profile; answers whether it was new to it. */
      async remember(profileId: string, deviceHash: string): Promise<boolean> {
        const result = await db.raw(
          'insert into profile_devices (profile_id, device_hash) values (?, ?) on conflict do nothing returning profile_id',
          [profileId, deviceHash],
        );
        return result.rows.length === 1;
      },
    },
  };
}

export type ProfileSessionQueries = ReturnType<typeof createProfileSessionQueries>;
