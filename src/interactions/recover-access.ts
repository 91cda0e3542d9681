import { randomBytes } from 'node:crypto';
import type { AuditQueries } from '../db/audit.js';
import type { Database } from '../db/database.js';
import type { Profile, ProfileQueries } from '../db/profiles.js';
import type { Channel } from '../delivery/outbox.js';
import { chooseLocale } from '../i18n/messages.js';
import { notifyBackchannelLogout, type BackchannelLogout, type BackchannelLogoutDependencies } from '../oidc/backchannel-logout.js';
import { endProfileSessions } from '../oidc/end-profile-sessions.js';
import type { Identifier } from '../profile/identifier.js';
import type { CodeRefusal, IssueResult } from '../profile/one-time-codes.js';
import { sendCode, type CodeDelivery } from '../profile/send-code.js';
import { passwordProblem, type PasswordProblem } from '../security/password-policy.js';
import { hashPassword } from '../security/passwords.js';
import type { PendingRecovery } from './interaction-kit.js';

export interface RecoveryDependencies extends BackchannelLogoutDependencies {
  db: Database;
  profiles: ProfileQueries;
  audit: AuditQueries;
  codeDelivery: CodeDelivery;
}

/** Where a recovery code may go: the profile's email (confirmed or the sign-up one), its phone only once confirmed. */
export function recoveryChannel(profile: Profile, identifier: Identifier): Channel | undefined {
  if (identifier.kind === 'email') return profile.email === identifier.value ? 'email' : undefined;
  return profile.phone === identifier.value && profile.phone_verified ? 'sms' : undefined;
}

/** A random id for the sign-in that asks for recovery codes (PendingRecovery.requester). */
export const newRequester = (): string => randomBytes(16).toString('base64url');

/**
 * Issues a recovery code for whoever typed the identifier: sent when it
 * reaches a profile, and otherwise issued, counted and throttled all the same
 * but sent nowhere, so every answer the caller gives is the same for
 * registered and unknown identifiers.
 */
export async function requestRecoveryCode(
  deps: RecoveryDependencies,
  input: { identifier: Identifier; requester: string; browserLocale: string; ip: string; clientId?: string | undefined },
): Promise<IssueResult> {
  const { identifier } = input;
  const profile = await deps.profiles.findByIdentifier(identifier.value);
  const channel = profile ? recoveryChannel(profile, identifier) : undefined;
  const result = await sendCode(deps.codeDelivery, {
    purpose: 'recover-access',
    identifier: identifier.value,
    requester: input.requester,
    reaches: profile && channel ? { profileId: profile.id, target: identifier.value } : undefined,
    // Without a recipient nothing is queued, whatever the channel.
    channel: channel ?? 'email',
    locale: chooseLocale(profile?.locale, () => input.browserLocale),
  });
  await deps.audit.record({
    kind: 'recovery.code_requested',
    profileId: profile?.id ?? null,
    ip: input.ip,
    clientId: input.clientId ?? null,
    detail: { channel: channel ?? null, sent: Boolean(channel) && result.issued },
  });
  return result;
}

export type ResetResult =
  | { outcome: 'recovered'; profileId: string }
  | { outcome: 'code-refused'; reason: CodeRefusal }
  | { outcome: 'password-refused'; problem: PasswordProblem };

/** Undoes the reset: the right code stays unused, for a password that is not made of the profile's own identifiers. */
class PasswordRefused extends Error {
  constructor(readonly problem: PasswordProblem) {
    super(`the new password is refused: ${problem}`);
  }
}

/**
 * Sets a new password with a recovery code, all or nothing: the code is used
 * up, the password replaced, the address the code reached marked confirmed
 * (the code proved it), and every session, grant and token of the profile
 * ended, since whoever knew the old password must not stay signed in; the
 * accounts those sessions reached are told once it has committed.
 * The password must already satisfy the policy for what the person typed;
 * only once the code is right is it checked against the profile's own email
 * and phone, so a refusal cannot tell a stranger whom an identifier reaches.
 */
export async function resetPassword(
  deps: RecoveryDependencies,
  input: { recovery: PendingRecovery; code: string; password: string; ip: string; clientId?: string | undefined },
): Promise<ResetResult> {
  const { recovery } = input;
  // Hashed before the code is checked: outside the transaction, and the same time whether the identifier is known or not.
  const passwordHash = await hashPassword(input.password);

  let logouts: BackchannelLogout[] = [];
  const reset = deps.db.transaction(async (trx): Promise<ResetResult> => {
    const verified = await deps.codeDelivery.codes.verify(
      { purpose: 'recover-access', identifier: recovery.identifier, requester: recovery.requester, code: input.code },
      trx,
    );
    if (!verified.valid) return { outcome: 'code-refused', reason: verified.reason };
    const { profileId } = verified;
    const column = verified.target.startsWith('+') ? 'phone' : 'email';
    const profile = await trx<Profile>('profiles').where({ id: profileId }).forUpdate().first();
    // The address changed since the code was sent: it no longer proves anything about this profile.
    if (!profile || profile[column] !== verified.target) return { outcome: 'code-refused', reason: 'expired' };
    const problem = passwordProblem(input.password, [profile.email, profile.phone].filter((value): value is string => Boolean(value)));
    if (problem) throw new PasswordRefused(problem);
    await deps.profiles.updatePasswordHash(profileId, passwordHash, trx);
    await trx('profiles')
      .where({ id: profileId })
      .update({ [`${column}_verified`]: true });
    logouts = await endProfileSessions(trx, profileId);
    await deps.audit.record(
      { kind: 'profile.access_recovered', profileId, ip: input.ip, clientId: input.clientId ?? null, detail: { via: column } },
      trx,
    );
    return { outcome: 'recovered', profileId };
  });
  const result = await reset.catch((error: unknown) => {
    if (error instanceof PasswordRefused) return { outcome: 'password-refused' as const, problem: error.problem };
    throw error;
  });
  if (result.outcome === 'recovered') notifyBackchannelLogout(deps.provider, deps.logger, logouts);
  return result;
}
