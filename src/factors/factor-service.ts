import type { Actor } from '../db/audit.js';
import type { Profile } from '../db/profiles.js';
import type { Queries } from '../db/queries.js';
import type { Metrics } from '../operations/metrics.js';
import type { ProblemTable } from '../outcome.js';
import type { SecondFactorLimits } from '../security/second-factor-limits.js';
import type { Sealer } from '../security/sealing.js';
import {
  authenticatePasskey,
  passkeyAuthenticationOptions,
  passkeyRegistrationOptions,
  registerPasskey,
  removePasskey,
  renamePasskey,
  type PasskeyProblem,
} from './passkeys.js';
import { generateRecoveryCodes, useRecoveryCode, type RecoveryCodeProblem } from './recovery-codes.js';
import { beginTotp, checkTotp, pendingTotp, removeTotp, type TotpProblem } from './totp.js';

/** What the second factors' rules are built from; wired once in src/context.ts. */
export interface FactorServiceDependencies {
  queries: Queries;
  /** Seals authenticator secrets at rest (KEY_ENCRYPTION_KEY). */
  sealer: Sealer;
  /** Key of the recovery codes' hashes. */
  codeKey: Buffer;
  /** WebAuthn's relying party ID and origin follow it. */
  issuer: string;
  limits: SecondFactorLimits;
  metrics: Pick<Metrics, 'signIns' | 'rateLimitRefusals'>;
}

export type FactorProblem = TotpProblem | RecoveryCodeProblem | PasskeyProblem;

/** Each problem a second factor's rules can answer, with its HTTP status and what a person reads. */
export const FACTOR_PROBLEMS: ProblemTable<FactorProblem> = {
  'totp-already-enabled': { status: 409, messageKey: 'totp.already_enabled' },
  'totp-not-enabled': { status: 409, messageKey: 'totp.not_enabled' },
  'code-format': { status: 400, messageKey: 'second_factor.code_format' },
  'second-factor-wrong': { status: 400, messageKey: 'second_factor.wrong' },
  'second-factor-throttled': { status: 429, messageKey: 'second_factor.throttled' },
  'passkey-invalid': { status: 400, messageKey: 'passkey.invalid' },
  'passkey-name-invalid': { status: 400, messageKey: 'passkey.name_invalid' },
  'passkey-not-found': { status: 404, messageKey: 'passkey.not_found' },
};

/** What a profile has enrolled. */
export interface EnrolledFactors {
  totp: boolean;
  passkeys: number;
  recoveryCodes: number;
}

/** Whether the profile has a second factor: recovery codes alone stand in for one, they are not one. */
export const hasSecondFactor = (enrolled: EnrolledFactors): boolean => enrolled.totp || enrolled.passkeys > 0;

/**
 * Second factors (product.md: TOTP and passkeys, recovery codes standing in
 * for them), one function each, for the sign-in screen and the Security page.
 */
export function createFactorService(deps: FactorServiceDependencies) {
  return {
    enrolled: (profileId: string): Promise<EnrolledFactors> => deps.queries.factors.summary(profileId),
    beginTotp: (profile: Profile) => beginTotp(deps, profile),
    pendingTotp: (profile: Profile) => pendingTotp(deps, profile),
    /** Confirms the set-up with its first code; the audit trail records the change. */
    async confirmTotp(profileId: string, code: string, actor: Actor) {
      const checked = await checkTotp(deps, profileId, code, { confirm: true });
      if (checked.ok) await deps.queries.audit.record({ kind: 'factor.totp_added', profileId, actor });
      return checked;
    },
    /** A code at sign-in; wrong ones are recorded in the audit trail. */
    async verifyTotp(profileId: string, code: string, actor: Actor) {
      const checked = await checkTotp(deps, profileId, code, { confirm: false });
      if (!checked.ok && checked.problem === 'second-factor-wrong') await deps.queries.audit.record({ kind: 'signin.second_factor_failed', profileId, actor, detail: { factor: 'totp' } });
      return checked;
    },
    removeTotp: (profileId: string, actor: Actor) => removeTotp(deps, profileId, actor),
    generateRecoveryCodes: (profileId: string, actor: Actor) => generateRecoveryCodes(deps, profileId, actor),
    useRecoveryCode: (profileId: string, code: string, actor: Actor) => useRecoveryCode(deps, profileId, code, actor),
    listPasskeys: (profileId: string) => deps.queries.factors.passkeys.list(profileId),
    passkeyRegistrationOptions: (profile: Profile) => passkeyRegistrationOptions(deps, profile),
    registerPasskey: (profile: Profile, input: Parameters<typeof registerPasskey>[2], actor: Actor) => registerPasskey(deps, profile, input, actor),
    passkeyAuthenticationOptions: (profileId?: string) => passkeyAuthenticationOptions(deps, profileId),
    authenticatePasskey: (input: Parameters<typeof authenticatePasskey>[1], actor: Actor) => authenticatePasskey(deps, input, actor),
    renamePasskey: (profileId: string, id: string, name: string, actor: Actor) => renamePasskey(deps, profileId, id, name, actor),
    removePasskey: (profileId: string, id: string, actor: Actor) => removePasskey(deps, profileId, id, actor),
  };
}

export type FactorService = ReturnType<typeof createFactorService>;
