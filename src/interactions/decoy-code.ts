import { CODE_MAX_FAILED_ATTEMPTS, CODE_TTL_SECONDS, secondsBeforeNextCode, type CodeRefusal } from '../profile/one-time-codes.js';
import type { DecoyConfirmation } from './interaction-kit.js';

/*
 * A pretended code: what the sign-in screen keeps where no code was sent
 * (sign-up with a taken email; recovery for an identifier of nobody keeps a
 * row in one_time_codes instead, see recover-access.ts). None can be right; everything else follows the rules of a real
 * code (one-time-codes.ts), so the step cannot be told apart from the real one
 * by what it answers.
 */
export interface DecoyCode {
  /** When the pretended code was "sent" (ms since epoch): it expires and throttles resends like a real one. */
  sentAt: number;
  /** Codes typed so far, so it runs out of tries like a real one. */
  failures: number;
  /** When the pretended codes before it were "sent", within the last hour: they count against the hourly cap. */
  sentBefore?: number[];
}

export const newDecoyCode = (now = Date.now()): DecoyCode => ({ sentAt: now, failures: 0 });

const HOUR = 60 * 60 * 1000;

export const startDecoy = (email: string, now = Date.now()): DecoyConfirmation => ({ decoy: true, email, ...newDecoyCode(now) });

export function refuseDecoyCode<T extends DecoyCode>(decoy: T, now = Date.now()): { reason: CodeRefusal; decoy: T } {
  if (now - decoy.sentAt >= CODE_TTL_SECONDS * 1000) return { reason: 'expired', decoy };
  if (decoy.failures >= CODE_MAX_FAILED_ATTEMPTS) return { reason: 'exhausted', decoy };
  const next = { ...decoy, failures: decoy.failures + 1 };
  return { reason: next.failures >= CODE_MAX_FAILED_ATTEMPTS ? 'exhausted' : 'wrong', decoy: next };
}

/** "Send a new code": the same minute between sends and hourly cap, then a fresh pretended code with all its tries. */
export function resendDecoyCode<T extends DecoyCode>(
  decoy: T,
  now = Date.now(),
): { issued: true; decoy: T } | { issued: false; retryAfterSeconds: number } {
  const sends = [...(decoy.sentBefore ?? []), decoy.sentAt];
  const wait = secondsBeforeNextCode(sends, now);
  if (wait > 0) return { issued: false, retryAfterSeconds: wait };
  return { issued: true, decoy: { ...decoy, ...newDecoyCode(now), sentBefore: sends.filter((time) => now - time < HOUR) } };
}
