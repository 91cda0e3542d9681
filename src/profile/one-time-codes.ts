import { createHmac, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
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

/** The steps of a signed-in profile (or of one just created): their codes are counted per profile. */
export type ProfileCodePurpose = Exclude<CodePurpose, 'recover-access'>;

/**
 * Which codes a code is counted with and checked against. A profile's own
 * steps are keyed by the profile. "Forgot password?" is asked by whoever
 * types an identifier, so its codes are keyed by the identifier typed,
 * registered or not, and each is bound to the sign-in that asked for it (the
 * requester): several browsers can each hold a code of their own, and wrong
 * tries in one never use up another's.
 */
export type CodeScope =
  | { purpose: ProfileCodePurpose; profileId: string }
  | { purpose: 'recover-access'; identifier: string; requester: string };

/** Where a code goes: the profile whose address `target` is. */
export interface CodeRecipient {
  profileId: string;
  target: string;
}

export type CodeRequest =
  | { purpose: ProfileCodePurpose; profileId: string; target: string; options?: Record<string, unknown> }
  /** `reaches` is absent when the identifier reaches nobody: the code is counted like any other but sent nowhere, and no code is right. */
  | { purpose: 'recover-access'; identifier: string; requester: string; reaches?: CodeRecipient | undefined };

/** `code` is what to send, undefined for a request that reaches nobody. */
export type IssueResult = { issued: true; code: string | undefined } | { issued: false; retryAfterSeconds: number };
export type CodeRefusal = 'wrong' | 'expired' | 'exhausted';
export type VerifyResult =
  | { valid: true; profileId: string; target: string; options: Record<string, unknown> }
  | { valid: false; reason: CodeRefusal };

/** What a person is told when a code is refused, wherever they typed it. */
export const CODE_REFUSAL_MESSAGES = {
  wrong: 'code.wrong',
  expired: 'code.expired',
  exhausted: 'code.exhausted',
} as const satisfies Record<CodeRefusal, MessageKey>;

interface CodeRow {
  id: string;
  profile_id: string | null;
  target: string | null;
  code_hash: string;
  failed_attempts: number;
  options: Record<string, unknown>;
  expires_at: Date;
  created_at: Date;
}

/**
 * One-time codes stored as keyed hashes: a database reader cannot recover a
 * code, and without the key six digits cannot be brute-forced offline either.
 * The identifiers typed at "Forgot password?" are kept the same way, so the
 * table does not list who asked about which address.
 */
export function createOneTimeCodes(db: Database, key: Buffer) {
  const hash = (id: string, code: string) => createHmac('sha256', key).update(`${id}:${code}`).digest('base64url');
  const identifierHash = (identifier: string) => createHmac('sha256', key).update(`identifier:${identifier}`).digest('base64url');

  /** The codes counted together for the minute between sends and the hourly cap. */
  const counted = (scope: CodeScope) =>
    scope.purpose === 'recover-access'
      ? { identifier_hash: identifierHash(scope.identifier), purpose: scope.purpose }
      : { profile_id: scope.profileId, purpose: scope.purpose };
  /** The codes one person holds: a new one replaces them, and the newest is the one checked. */
  const held = (scope: CodeScope) => (scope.purpose === 'recover-access' ? { ...counted(scope), requester: scope.requester } : counted(scope));

  return {
    async issue(request: CodeRequest, trx: Database = db): Promise<IssueResult> {
      const now = Date.now();
      const recent = await trx('one_time_codes')
        .where(counted(request))
        .andWhere('created_at', '>', new Date(now - HOUR))
        .select<Pick<CodeRow, 'created_at'>[]>('created_at');
      const wait = secondsBeforeNextCode(recent.map((row) => row.created_at.getTime()), now);
      if (wait > 0) return { issued: false, retryAfterSeconds: wait };
      // A new code replaces the earlier ones its holder was sent, and nobody else's.
      await trx('one_time_codes').where(held(request)).whereNull('consumed_at').update({ consumed_at: new Date(now) });
      const recipient = request.purpose === 'recover-access' ? request.reaches : request;
      const id = randomUUID();
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      await trx('one_time_codes').insert({
        id,
        ...held(request),
        profile_id: recipient?.profileId ?? null,
        target: recipient?.target ?? null,
        // Where the code reaches nobody, the hash is of a value nobody is sent and nobody can type (not six digits).
        code_hash: hash(id, recipient ? code : randomBytes(24).toString('base64url')),
        options: JSON.stringify(request.purpose === 'recover-access' ? {} : (request.options ?? {})),
        // The clock the waits are measured with, not the database's.
        created_at: new Date(now),
        expires_at: new Date(now + CODE_TTL_SECONDS * 1000),
      });
      return { issued: true, code: recipient ? code : undefined };
    },

    /** Where the newest live code of this scope was sent, if there is one. */
    async pendingTarget(scope: CodeScope, trx: Database = db): Promise<string | undefined> {
      const row = await trx('one_time_codes')
        .where(held(scope))
        .whereNull('consumed_at')
        .andWhere('expires_at', '>', new Date())
        .orderBy('created_at', 'desc')
        .first<{ target: string | null } | undefined>('target');
      return row?.target ?? undefined;
    },

    /** Consumes the code when right; counts a wrong try otherwise. */
    async verify(input: CodeScope & { code: string }, trx: Database = db): Promise<VerifyResult> {
      const row = await trx('one_time_codes')
        .where(held(input))
        .whereNull('consumed_at')
        .orderBy('created_at', 'desc')
        .first<CodeRow | undefined>();
      if (!row || row.expires_at.getTime() <= Date.now()) return { valid: false, reason: 'expired' };
      if (row.failed_attempts >= CODE_MAX_FAILED_ATTEMPTS) return { valid: false, reason: 'exhausted' };
      const given = Buffer.from(hash(row.id, input.code.replace(/\s+/g, '')));
      const expected = Buffer.from(row.code_hash);
      if (given.length !== expected.length || !timingSafeEqual(given, expected) || !row.profile_id || !row.target) {
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
      return { valid: true, profileId: row.profile_id, target: row.target, options: row.options };
    },
  };
}

/**
 * Code rows are kept an hour after they expire, since the hourly cap counts
 * them; then they are deleted. Answers how many were.
 */
export async function deleteOldCodes(db: Database, now = Date.now()): Promise<number> {
  // Not the query builder's delete(): under knex-pglite it resolves to the driver's result object, not a count.
  const result = await db.raw('delete from one_time_codes where expires_at < ?', [new Date(now - HOUR)]);
  return Number(result.rowCount ?? result.affectedRows ?? 0);
}

export type OneTimeCodes = ReturnType<typeof createOneTimeCodes>;
