import { randomBytes } from 'node:crypto';
import type { Actor } from '../db/audit.js';
import type { Profile } from '../db/profiles.js';
import type { Channel } from '../delivery/outbox.js';
import { chooseLocale } from '../i18n/messages.js';
import type { BackchannelLogout } from '../oidc/backchannel-logout.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import { passwordProblem, type PasswordProblem } from '../security/password-policy.js';
import { hashPassword } from '../security/passwords.js';
import type { CodeProblem } from './confirm-email.js';
import type { Identifier } from './identifier.js';
import type { IssueResult } from './one-time-codes.js';
import type { ProfileServiceDependencies } from './profile-service.js';
import { sendCode } from './send-code.js';
import { PASSWORD_PROBLEM_MESSAGES } from './sign-up.js';

/** "Forgot password" in progress: who asked, so any instance can check the code that follows. */
export interface PendingRecovery {
  /** The normalised email or phone the person typed. */
  identifier: string;
  /**
   * A random id of this sign-in, chosen at its first request: its codes are
   * bound to it, so another browser's tries never touch them. Whether the
   * identifier belongs to anyone is not kept here; the code row knows.
   */
  requester: string;
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
  deps: ProfileServiceDependencies,
  input: { identifier: Identifier; requester: string; browserLocale: string; clientId?: string | undefined },
  actor: Actor,
): Promise<IssueResult> {
  const { identifier } = input;
  const profile = await deps.queries.profiles.findByIdentifier(identifier.value);
  const channel = profile ? recoveryChannel(profile, identifier) : undefined;
  const result = await sendCode(deps.queries, deps.wakeDelivery, {
    purpose: 'recover-access',
    identifier: identifier.value,
    requester: input.requester,
    reaches: profile && channel ? { profileId: profile.id, target: identifier.value } : undefined,
    // Without a recipient nothing is queued, whatever the channel.
    channel: channel ?? 'email',
    locale: chooseLocale(profile?.locale, () => input.browserLocale),
  });
  await deps.queries.audit.record({
    kind: 'recovery.code_requested',
    profileId: profile?.id ?? null,
    clientId: input.clientId ?? null,
    actor,
    detail: { channel: channel ?? null, sent: Boolean(channel) && result.issued },
  });
  return result;
}

export type ResetOutcome = Outcome<{ profileId: string }, CodeProblem | 'form-invalid'>;

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
  deps: ProfileServiceDependencies,
  input: { recovery: PendingRecovery; code: string; password: string; clientId?: string | undefined },
  actor: Actor,
): Promise<ResetOutcome> {
  const { recovery } = input;
  // Hashed before the code is checked: outside the transaction, and the same time whether the identifier is known or not.
  const passwordHash = await hashPassword(input.password);
  let logouts: BackchannelLogout[] = [];
  const reset = deps.queries.transaction(async (queries): Promise<ResetOutcome> => {
    const verified = await queries.codes.verify({ purpose: 'recover-access', identifier: recovery.identifier, requester: recovery.requester, code: input.code });
    if (!verified.valid) return refuse(`code-${verified.reason}`);
    const { profileId } = verified;
    const column = verified.target.startsWith('+') ? 'phone' : 'email';
    const profile: Profile | undefined = await queries.profiles.findByIdForUpdate(profileId);
    // The address changed since the code was sent: it no longer proves anything about this profile.
    if (!profile || profile[column] !== verified.target) return refuse('code-expired');
    const problem = passwordProblem(input.password, [profile.email, profile.phone].filter((value): value is string => Boolean(value)));
    if (problem) throw new PasswordRefused(problem);
    await queries.profiles.setPasswordHash(profileId, passwordHash);
    await queries.profiles.confirmContact(profileId, column, verified.target);
    logouts = await queries.sessions.endProfileSessions(profileId);
    await queries.audit.record({ kind: 'profile.access_recovered', profileId, clientId: input.clientId ?? null, actor, detail: { via: column } });
    return ok({ profileId });
  });
  const result = await reset.catch((error: unknown): ResetOutcome => {
    if (error instanceof PasswordRefused) return refuse('form-invalid', { fields: { password: PASSWORD_PROBLEM_MESSAGES[error.problem] } });
    throw error;
  });
  if (result.ok) deps.notifyLogout(logouts);
  return result;
}
