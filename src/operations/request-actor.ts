import type { Context } from 'koa';
import type { Actor } from '../db/audit.js';

/** The person behind a page request, for the audit trail: who (when known), from which address and browser. */
export function personActor(ctx: Context, profileId?: string | undefined, clientId?: string | undefined): Actor {
  return { kind: 'profile', profileId: profileId ?? null, clientId: clientId ?? null, ip: ctx.ip, userAgent: ctx.get('user-agent') || null };
}
