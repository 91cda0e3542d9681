import { createHmac, randomInt } from 'node:crypto';
import type { Actor } from '../db/audit.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import type { Queries } from '../db/queries.js';
import { hasSecondFactor, type FactorServiceDependencies } from './factor-service.js';

export const RECOVERY_CODE_COUNT = 10;
/** Letters and digits nobody confuses when copying from paper (no 0/o, 1/l/i). */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/** 10 characters of 31: about 50 bits each, far beyond guessing at the second factor's pace. */
const LENGTH = 10;

/** How a code is written and typed: two groups of five; spaces, hyphens and case do not matter. */
const normalise = (code: string) => code.toLowerCase().replace(/[\s-]+/g, '');
const display = (code: string) => `${code.slice(0, 5)}-${code.slice(5)}`;

export const isRecoveryCodeShaped = (code: string): boolean => new RegExp(`^[${ALPHABET}]{${LENGTH}}$`).test(normalise(code));

const hashOf = (key: Buffer, code: string) => createHmac('sha256', key).update(`recovery-code:${normalise(code)}`).digest('base64url');

/**
 * New recovery codes for the profile, which void every earlier one. They are
 * shown once, here; only their keyed hashes are kept.
 */
export async function generateRecoveryCodes(deps: FactorServiceDependencies, profileId: string, actor: Actor): Promise<{ codes: string[] }> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => Array.from({ length: LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''));
  await deps.queries.transaction(async (queries) => {
    await queries.factors.recoveryCodes.replace(profileId, codes.map((code) => hashOf(deps.codeKey, code)));
    await queries.audit.record({ kind: 'factor.recovery_codes_generated', profileId, actor });
  });
  return { codes: codes.map(display) };
}

export type RecoveryCodeProblem = 'code-format' | 'second-factor-wrong' | 'second-factor-throttled';

/** Uses one recovery code in place of a second factor: once, with wrong ones slowed as wrong authenticator codes are. */
export async function useRecoveryCode(deps: FactorServiceDependencies, profileId: string, code: string, actor: Actor): Promise<Outcome<{ remaining: number }, RecoveryCodeProblem>> {
  if (!isRecoveryCodeShaped(code)) return refuse('code-format');
  const wait = await deps.limits.admit(profileId);
  if (wait > 0) {
    deps.metrics.rateLimitRefusals.inc({ limit: 'second_factor' });
    return refuse('second-factor-throttled', { retryAfterSeconds: wait });
  }
  if (!(await deps.queries.factors.recoveryCodes.use(profileId, hashOf(deps.codeKey, code)))) {
    deps.metrics.signIns.inc({ outcome: 'second_factor' });
    return refuse('second-factor-wrong');
  }
  await deps.limits.succeeded(profileId);
  const remaining = await deps.queries.factors.recoveryCodes.remaining(profileId);
  await deps.queries.audit.record({ kind: 'factor.recovery_code_used', profileId, actor, detail: { remaining } });
  return ok({ remaining });
}

/**
 * Recovery codes stand in for a second factor, so they go with the last one:
 * kept, they would come back to life with the next factor set up, long after
 * the paper they were printed on was thrown away. Runs in the removal's
 * transaction.
 */
export async function forgetRecoveryCodesWithoutFactor(queries: Queries, profileId: string): Promise<void> {
  if (!hasSecondFactor(await queries.factors.summary(profileId))) await queries.factors.recoveryCodes.remove(profileId);
}
