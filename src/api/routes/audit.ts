import { z } from 'zod';
import { decodeCursor, INTEGER_KEY, pageAnswer, pageQuery } from '../paging.js';
import { defineRoute } from '../route.js';
import { AuditEventSchema, auditEventView, pageOf } from '../schemas.js';

const dateTime = (description: string) =>
  z.iso
    .datetime({ offset: true })
    .transform((value) => new Date(value))
    .optional()
    .meta({ description });

export const auditRoutes = [
  defineRoute({
    id: 'audit.list',
    method: 'get',
    path: '/audit-events',
    summary: 'Read the audit trail',
    description: 'Changes and sign-ins, who made them, from where and when: newest first, a page at a time; events recorded meanwhile do not disturb the pages.',
    query: z
      .object({
        ...pageQuery,
        profile: z.string().uuid().optional().meta({ description: 'Only events about this profile, or made by it' }),
        account: z.string().uuid().optional().meta({ description: "Only events about this account (its id)" }),
        kind: z.string().min(1).max(100).optional().meta({ description: 'Only events of this kind, such as profile.blocked or signin.failed' }),
        since: dateTime('Only events at or after this moment (ISO 8601 with its offset, 2026-01-31T12:00:00Z)'),
        until: dateTime('Only events before this moment'),
      })
      .strict(),
    responses: { 200: { description: 'A page of events', schema: pageOf(AuditEventSchema, 'AuditEventPage') } },
    async handle({ ctx, context, query }) {
      const page = await context.services.audit.list(
        { profileId: query.profile, accountId: query.account, kind: query.kind, since: query.since, until: query.until },
        { limit: query.limit, after: decodeCursor(query.cursor, INTEGER_KEY) },
      );
      return { status: 200, body: pageAnswer(ctx, context.config.issuer, page, auditEventView) };
    },
  }),
];
