import type { Database } from '../db/database.js';
import type { Sealer } from '../security/sealing.js';

export type Channel = 'email' | 'sms';
/** Messages that carry a one-time code (`params.code`). */
export type CodeTemplate = 'confirm-email' | 'connect-email' | 'connect-phone' | 'recover-access';
/** Messages that only tell the person something, with no code: some carry a link (`params.link`). */
export type NoticeTemplate = 'existing-profile' | 'membership-invitation' | 'invitation-sign-up' | 'new-sign-in';
/** What a message is about; each has localised text in the catalogues (`message.<template>.*`). */
export type MessageTemplate = CodeTemplate | NoticeTemplate;

const NOTICE_TEMPLATES: ReadonlySet<string> = new Set<NoticeTemplate>(['existing-profile', 'membership-invitation', 'invitation-sign-up', 'new-sign-in']);

export const isNoticeTemplate = (template: string): template is NoticeTemplate => NOTICE_TEMPLATES.has(template);

export interface OutgoingMessage {
  channel: Channel;
  recipient: string;
  template: MessageTemplate;
  locale: string;
  params: Record<string, string>;
}

export interface OutboxRow extends OutgoingMessage {
  id: number;
  attempts: number;
}

/** A row as claimed, its params still as stored: sealed, or plain when an older version queued it. */
export interface ClaimedRow extends Omit<OutboxRow, 'params'> {
  params: unknown;
}

/**
 * Written in the same transaction as the change that causes the message, so a
 * message exists exactly when its change does. The params are sealed with
 * the key-encryption key: they can hold a one-time code, and a copy of the
 * database must not show codes waiting to be sent.
 */
export async function enqueueMessage(trx: Database, sealer: Sealer, message: OutgoingMessage): Promise<void> {
  await trx('outbox').insert({
    channel: message.channel,
    recipient: message.recipient,
    template: message.template,
    locale: message.locale,
    params: JSON.stringify({ sealed: sealer.seal(JSON.stringify(message.params)) }),
  });
}

/** The message as it is to be rendered; throws when the params were sealed under another key. */
export function openMessage(sealer: Sealer, row: ClaimedRow): OutboxRow {
  const stored = (row.params ?? {}) as { sealed?: unknown };
  if (typeof stored.sealed !== 'string') return { ...row, params: stored as Record<string, string> };
  return { ...row, params: JSON.parse(sealer.open(stored.sealed)) as Record<string, string> };
}

/**
 * Takes due messages for this worker by pushing their next attempt a lease
 * into the future, so another instance does not send them meanwhile and a
 * crashed worker's messages come due again.
 */
export async function claimDueMessages(db: Database, limit: number, leaseSeconds: number): Promise<ClaimedRow[]> {
  const result = await db.raw(
    `update outbox set next_attempt_at = now() + make_interval(secs => ?), attempts = attempts + 1
     where id in (
       select id from outbox where state = 'pending' and next_attempt_at <= now()
       order by next_attempt_at limit ? for update skip locked
     )
     returning id, channel, recipient, template, locale, params, attempts`,
    [leaseSeconds, limit],
  );
  return result.rows as ClaimedRow[];
}

export async function markSent(db: Database, id: number): Promise<void> {
  // The params may hold a one-time code: nothing of it stays once delivered.
  await db('outbox').where({ id }).update({ state: 'sent', sent_at: db.fn.now(), params: null, last_error: null });
}

export async function markFailedAttempt(db: Database, id: number, error: string, retryInSeconds: number | undefined): Promise<void> {
  await db('outbox')
    .where({ id })
    .update(
      retryInSeconds === undefined
        ? { state: 'failed', last_error: error, params: null }
        : { last_error: error, next_attempt_at: new Date(Date.now() + retryInSeconds * 1000) },
    );
}
