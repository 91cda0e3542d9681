import type { Database } from './database.js';

export interface AuditEvent {
  kind: string;
  profileId?: string | null;
  accountId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  /** Never a secret: callers pass identifiers and outcomes only. */
  detail?: Record<string, unknown>;
}

export function createAuditQueries(db: Database) {
  return {
    async record(event: AuditEvent, trx: Database = db): Promise<void> {
      await trx('audit_events').insert({
        kind: event.kind,
        profile_id: event.profileId ?? null,
        account_id: event.accountId ?? null,
        client_id: event.clientId ?? null,
        ip: event.ip ?? null,
        detail: JSON.stringify(event.detail ?? {}),
      });
    },
    async list(filter: { profileId?: string; kind?: string } = {}, trx: Database = db) {
      const query = trx('audit_events').orderBy('id', 'desc').limit(100);
      if (filter.profileId) query.where('profile_id', filter.profileId);
      if (filter.kind) query.where('kind', filter.kind);
      return query;
    },
  };
}

export type AuditQueries = ReturnType<typeof createAuditQueries>;
