import type { Database } from './database.js';
import type { Page } from './profiles.js';

/**
 * Who made a change: a signed-in person, a client (an account's back end or an
 * operator's service, through the management API), the operator at the
 * command line, or NetID itself (a sign-in, a cleanup). With the address and
 * user agent of the request, where there was one.
 */
export interface Actor {
  kind: 'profile' | 'client' | 'operator' | 'netid';
  profileId?: string | null | undefined;
  clientId?: string | null | undefined;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
}

export const NETID: Actor = { kind: 'netid' };
export const OPERATOR: Actor = { kind: 'operator' };

export interface AuditEvent {
  kind: string;
  /** The profile the event is about. */
  profileId?: string | null | undefined;
  accountId?: string | null | undefined;
  /** The client the event is about (the one signed in to, or registered). */
  clientId?: string | null | undefined;
  /** Who did it; NetID itself when absent. */
  actor?: Actor | undefined;
  /** Kept for events recorded without an actor that has one. */
  ip?: string | null | undefined;
  /** Never a secret: callers pass identifiers and outcomes only. */
  detail?: Record<string, unknown>;
}

export interface StoredAuditEvent {
  id: string;
  occurred_at: Date;
  kind: string;
  profile_id: string | null;
  account_id: string | null;
  client_id: string | null;
  ip: string | null;
  actor_kind: Actor['kind'] | null;
  actor_profile_id: string | null;
  actor_client_id: string | null;
  user_agent: string | null;
  detail: Record<string, unknown>;
}

export interface AuditFilter {
  profileId?: string | undefined;
  accountId?: string | undefined;
  kind?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

/** Long user agents are cut: the trail is for people reading it, not for storing whatever a client sends. */
const MAX_USER_AGENT = 300;

export function createAuditQueries(db: Database) {
  return {
    async record(event: AuditEvent): Promise<void> {
      const actor = event.actor ?? NETID;
      await db('audit_events').insert({
        kind: event.kind,
        profile_id: event.profileId ?? null,
        account_id: event.accountId ?? null,
        client_id: event.clientId ?? null,
        ip: actor.ip ?? event.ip ?? null,
        actor_kind: actor.kind,
        actor_profile_id: actor.profileId ?? null,
        actor_client_id: actor.clientId ?? null,
        user_agent: actor.userAgent ? actor.userAgent.slice(0, MAX_USER_AGENT) : null,
        detail: JSON.stringify(event.detail ?? {}),
      });
    },

    /** Newest first, a page at a time by id, which events recorded meanwhile cannot disturb. */
    async list(filter: AuditFilter, page: { limit: number; after?: string | undefined }): Promise<Page<StoredAuditEvent>> {
      const query = db<StoredAuditEvent>('audit_events').orderBy('id', 'desc').limit(page.limit + 1);
      if (filter.profileId) query.where((q) => q.where('profile_id', filter.profileId!).orWhere('actor_profile_id', filter.profileId!));
      if (filter.accountId) query.where('account_id', filter.accountId);
      if (filter.kind) query.where('kind', filter.kind);
      if (filter.since) query.where('occurred_at', '>=', filter.since);
      if (filter.until) query.where('occurred_at', '<', filter.until);
      if (page.after) query.where('id', '<', page.after);
      const rows = (await query).map((row) => ({ ...row, id: String(row.id) }));
      const items = rows.slice(0, page.limit);
      return { items, next: rows.length > page.limit ? items.at(-1)!.id : undefined };
    },
  };
}

export type AuditQueries = ReturnType<typeof createAuditQueries>;
