import { createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Database } from '../db/database.js';
import type { MessageKey } from '../i18n/messages.js';

export type CodePurpose = 'confirm-email' | 'connect-email' | 'connect-phone' | 'recover-access';

/** Six digits, ten minutes, five wrong tries, one use, a minute between sends and five sends an hour. */
export const CODE_TTL_SECONDS = 10 * 60;
export const CODE_MAX_FAILED_ATTEMPTS = 5;
export const CODE_RESEND_SECONDS = 60;
export const CODES_PER_HOUR = 5;

const HOUR = 60 * 60 * 1000;

/**
 * Seconds before another code may be sent, given when the earlier ones were
 * (ms since epoch); 0 when one may go now. The hourly cap is what bounds
 * guessing: each code allows five tries, so a fresh code every minute would
 * otherwise give hundreds of guesses an hour.
 */
export function secondsBeforeNextCode(sentAt: number[], now = Date.now()): number {
  const lastHour = sentAt.filter((time) => now - time < HOUR).sort((a, b) => a - b);
  let wait = 0;
  const latest = lastHour.at(-1);
  if (latest !== undefined) wait = latest + CODE_RESEND_SECONDS * 1000 - now;
  if (lastHour.length >= CODES_PER_HOUR) wait = Math.max(wait, lastHour[lastHour.length - CODES_PER_HOUR]! + HOUR - now);
  return wait > 0 ? Math.ceil(wait / 1000) : 0;
}

export type IssueResult = { issued: true; code: string } | { issued: false; retryAfterSeconds: number };
export type CodeRefusal = 'wrong' | 'expired' | 'exhausted';
export type VerifyResult =
  | { valid: true; target: string; options: Record<string, unknown> }
  | { valid: false; reason: CodeRefusal };

/** What a person is told when a code is refused, wherever they typed it. */
export const CODE_REFUSAL_MESSAGES = {
  wrong: 'code.wrong',
  expired: 'code.expired',
  exhausted: 'code.exhausted',
} as const satisfies Record<CodeRefusal, MessageKey>;

interface CodeRow {
  id: string;
  target: string;
  code_hash: string;
  failed_attempts: number;
  options: Record<string, unknown>;
  expires_at: Date;
  created_at: Date;
}

/**
 * One-time codes stored as keyed hashes: a database reader cannot recover a
 * code, and without the key six digits cannot be brute-forced offline either.
 */
export function createOneTimeCodes(db: Database, key: Buffer) {
  const hash = (id: string, code: string) => createHmac('sha256', key).update(`${id}:${code}`).digest('base64url');

  return {
    async issue(
      input: { profileId: string; purpose: CodePurpose; target: string; options?: Record<string, unknown> },
      trx: Database = db,
    ): Promise<IssueResult> {
      const now = Date.now();
      const recent = await trx('one_time_codes')
        .where({ profile_id: input.profileId, purpose: input.purpose })
        .andWhere('created_at', '>', new Date(now - HOUR))
        .select<Pick<CodeRow, 'created_at'>[]>('created_at');
      const wait = secondsBeforeNextCode(recent.map((row) => row.created_at.getTime()), now);
      if (wait > 0) return { issued: false, retryAfterSeconds: wait };
      // A new code replaces the earlier ones for the same purpose.
      await trx('one_time_codes')
        .where({ profile_id: input.profileId, purpose: input.purpose })
        .whereNull('consumed_at')
        .update({ consumed_at: trx.fn.now() });
      const id = randomUUID();
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      await trx('one_time_codes').insert({
        id,
        profile_id: input.profileId,
        purpose: input.purpose,
        target: input.target,
        code_hash: hash(id, code),
        options: JSON.stringify(input.options ?? {}),
        // The clock the waits are measured with, not the database's.
        created_at: new Date(now),
        expires_at: new Date(now + CODE_TTL_SECONDS * 1000),
      });
      return { issued: true, code };
    },

    /** Consumes the code when right; counts a wrong try otherwise. */
    async verify(input: { profileId: string; purpose: CodePurpose; code: string }, trx: Database = db): Promise<VerifyResult> {
      const row = await trx('one_time_codes')
        .where({ profile_id: input.profileId, purpose: input.purpose })
        .whereNull('consumed_at')
        .orderBy('created_at', 'desc')
        .first<CodeRow | undefined>();
      if (!row || row.expires_at.getTime() <= Date.now()) return { valid: false, reason: 'expired' };
      if (row.failed_attempts >= CODE_MAX_FAILED_ATTEMPTS) return { valid: false, reason: 'exhausted' };
      const given = Buffer.from(hash(row.id, input.code.replace(/\s+/g, '')));
      const expected = Buffer.from(row.code_hash);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        const [updated] = await trx('one_time_codes')
          .where({ id: row.id })
          .increment('failed_attempts', 1)
          .returning('failed_attempts');
        const failed = Number((updated as { failed_attempts: number }).failed_attempts);
        return { valid: false, reason: failed >= CODE_MAX_FAILED_ATTEMPTS ? 'exhausted' : 'wrong' };
      }
      // Single use even when two requests race with the same right code.
      const consumed = await trx('one_time_codes').where({ id: row.id }).whereNull('consumed_at').update({ consumed_at: trx.fn.now() });
      if (!consumed) return { valid: false, reason: 'expired' };
      return { valid: true, target: row.target, options: row.options };
    },
  };
}

export type OneTimeCodes = ReturnType<typeof createOneTimeCodes>;
