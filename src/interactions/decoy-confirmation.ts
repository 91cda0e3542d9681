import { CODE_MAX_FAILED_ATTEMPTS, CODE_RESEND_SECONDS, CODE_TTL_SECONDS } from '../profile/one-time-codes.js';
import type { DecoyConfirmation } from './interaction-kit.js';

/*
 * The confirmation step after a sign-up with an email that is already taken.
 * No code was sent, so none can be right; everything else follows the rules
 * of a real code (one-time-codes.ts), so the step cannot be told apart from
 * the real one by what it answers.
 */

export const startDecoy = (email: string, now = Date.now()): DecoyConfirmation => ({ decoy: true, email, sentAt: now, failures: 0 });

export function refuseDecoyCode(
  decoy: DecoyConfirmation,
  now = Date.now(),
): { reason: 'wrong' | 'expired' | 'exhausted'; decoy: DecoyConfirmation } {
  if (now - decoy.sentAt >= CODE_TTL_SECONDS * 1000) return { reason: 'expired', decoy };
  if (decoy.failures >= CODE_MAX_FAILED_ATTEMPTS) return { reason: 'exhausted', decoy };
  const next = { ...decoy, failures: decoy.failures + 1 };
  return { reason: next.failures >= CODE_MAX_FAILED_ATTEMPTS ? 'exhausted' : 'wrong', decoy: next };
}

/** "Send a new code": the same minute between sends, then a fresh pretended code with all its tries. */
export function resendDecoyCode(
  decoy: DecoyConfirmation,
  now = Date.now(),
): { issued: true; decoy: DecoyConfirmation } | { issued: false; retryAfterSeconds: number } {
  const waited = (now - decoy.sentAt) / 1000;
  if (waited < CODE_RESEND_SECONDS) return { issued: false, retryAfterSeconds: Math.ceil(CODE_RESEND_SECONDS - waited) };
  return { issued: true, decoy: startDecoy(decoy.email, now) };
}
