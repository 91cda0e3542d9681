import { createHash } from 'node:crypto';
import type { Actor } from '../db/audit.js';
import type { Profile } from '../db/profiles.js';
import type { Queries } from '../db/queries.js';
import type { BackchannelLogout } from '../oidc/backchannel-logout.js';
import { ok, refuse, type Outcome, type ProblemTable } from '../outcome.js';
import { deviceLine, describeDevice, type DeviceDescription } from './device.js';

export interface SessionServiceDependencies {
  queries: Queries;
  notifyLogout(logouts: readonly BackchannelLogout[]): void;
  wakeDelivery(): void;
  /** Links in messages point at the network pages under it. */
  issuer: string;
}

export type SessionProblem = 'session-not-found';

export const SESSION_PROBLEMS: ProblemTable<SessionProblem> = {
  'session-not-found': { status: 404, messageKey: 'error.not_found' },
};

/** A network session as the Security page lists it. */
export interface ListedSession {
  uid: string;
  current: boolean;
  device: DeviceDescription | undefined;
  ip: string | null;
  firstSeenAt: Date | null;
  lastSeenAt: Date | null;
  /** Names of what it signed in to: accounts by name, other clients by their own name. */
  signedInTo: string[];
}

/** At most one write a minute per session and process, however often it is used. */
const TOUCH_INTERVAL_MS = 60_000;
const TOUCHES_REMEMBERED = 10_000;
/** Browsers remembered per profile: plenty for a person, and a bound on what signing in from fresh browsers can store. */
const DEVICES_REMEMBERED = 50;

/**
 * A profile's network sessions (one per browser): where each signs in from,
 * listed for the person, ended one by one or all but the current one, and a
 * notice by email when a browser the profile never used signs in.
 */
export function createSessionService(deps: SessionServiceDependencies) {
  const touchedAt = new Map<string, number>();

  async function namesOf(clientIds: string[]): Promise<string[]> {
    const names = await Promise.all(
      clientIds.map(async (clientId) => {
        const client = await deps.queries.clients.findMetadata(clientId);
        return typeof client?.client_name === 'string' ? client.client_name : clientId;
      }),
    );
    return [...new Set(names)];
  }

  return {
    /** A sign-in finished in this session (oidc-provider's uid): from where, and since when if it is new. */
    async recordSignIn(session: { sessionUid: string; profileId: string; userAgent: string | null; ip: string | null }): Promise<void> {
      touchedAt.set(session.sessionUid, Date.now());
      await deps.queries.profileSessions.record(session);
    },

    /** The session was used again (a page, an authorization); written at most once a minute. */
    async touch(sessionUid: string, ip: string | null): Promise<void> {
      const now = Date.now();
      if (now - (touchedAt.get(sessionUid) ?? 0) < TOUCH_INTERVAL_MS) return;
      if (touchedAt.size >= TOUCHES_REMEMBERED) touchedAt.clear();
      touchedAt.set(sessionUid, now);
      await deps.queries.profileSessions.touch(sessionUid, ip);
    },

    async list(profileId: string, currentSessionId: string): Promise<ListedSession[]> {
      const rows = await deps.queries.profileSessions.list(profileId);
      const listed = await Promise.all(
        rows.map(async (row) => ({
          uid: row.uid,
          current: row.id === currentSessionId,
          device: describeDevice(row.userAgent),
          ip: row.ip,
          firstSeenAt: row.firstSeenAt ?? row.signedInAt,
          lastSeenAt: row.lastSeenAt ?? row.signedInAt,
          signedInTo: await namesOf(row.clientIds),
        })),
      );
      // The browser in hand first, then the others as they were last seen.
      return listed.sort((a, b) => Number(b.current) - Number(a.current));
    },

    /**
     * Ends one of the profile's sessions: its refresh tokens stop working and
     * the accounts it signed in to are told by back-channel logout, once committed.
     */
    async end(profileId: string, sessionUid: string, actor: Actor): Promise<Outcome<object, SessionProblem>> {
      const ended = await deps.queries.transaction(async (queries) => {
        const logouts = await queries.sessions.endSession(profileId, sessionUid);
        if (!logouts) return undefined;
        await queries.audit.record({ kind: 'session.ended', profileId, actor, detail: { session: sessionUid } });
        queries.afterCommit(() => deps.notifyLogout(logouts));
        return logouts;
      });
      return ended ? ok({}) : refuse('session-not-found');
    },

    /** Ends every session of the profile but the one in hand. */
    async endOthers(profileId: string, keepSessionId: string, actor: Actor): Promise<void> {
      await deps.queries.transaction(async (queries) => {
        const logouts = await queries.sessions.endProfileSessions(profileId, { keepSessionId });
        await queries.audit.record({ kind: 'session.others_ended', profileId, actor });
        queries.afterCommit(() => deps.notifyLogout(logouts));
      });
    },

    /**
     * Remembers the browser (the hash of its marker cookie) for the profile
     * and, when the profile had signed in from other browsers before but never
     * this one, tells the person by email what signed in, when and from where.
     * A profile's first browser, and the sign-in that created the profile, are
     * not announced: there is nothing to compare them with.
     */
    async rememberDevice(input: { profile: Profile; marker: string; created: boolean; userAgent: string | null; ip: string | null; locale: string }): Promise<boolean> {
      const hash = createHash('sha256').update(input.marker).digest('base64url');
      const { profile } = input;
      if (!(await deps.queries.profileSessions.devices.remember(profile.id, hash))) return false;
      const known = await deps.queries.profileSessions.devices.count(profile.id);
      if (known > DEVICES_REMEMBERED) await deps.queries.profileSessions.devices.forgetAllBut(profile.id, DEVICES_REMEMBERED);
      if (input.created || !profile.email || known < 2) return false;
      const time = new Date().toISOString().slice(0, 16).replace('T', ' ');
      await deps.queries.outbox.enqueue({
        channel: 'email',
        recipient: profile.email,
        template: 'new-sign-in',
        locale: input.locale,
        params: { device: deviceLine(input.userAgent), ip: input.ip ?? '?', time, link: `${deps.issuer}/network/security` },
      });
      deps.wakeDelivery();
      return true;
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
