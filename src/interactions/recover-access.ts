import type { AuditQueries } from '../db/audit.js';
import type { Database } from '../db/database.js';
import type { Profile, ProfileQueries } from '../db/profiles.js';
import type { Channel } from '../delivery/outbox.js';
import { chooseLocale } from '../i18n/messages.js';
import { notifyBackchannelLogout, type BackchannelLogout, type BackchannelLogoutDependencies } from '../oidc/backchannel-logout.js';
import { endProfileSessions } from '../oidc/end-profile-sessions.js';
import type { Identifier } from '../profile/identifier.js';
import type { CodeRefusal } from '../profile/one-time-codes.js';
import { newDecoyCode, refuseDecoyCode } from './decoy-code.js';
import { sendCode, type CodeDelivery } from '../profile/send-code.js';
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

/**
 * Sends a recovery code when the identifier reaches a profile. The caller
 * answers the same whatever happened here, so nobody learns who is registered.
 */
export async function requestRecoveryCode(
  deps: RecoveryDependencies,
  input: { identifier: Identifier; browserLocale: string; ip: string; clientId?: string | undefined },
): Promise<PendingRecovery> {
  const { identifier } = input;
  const profile = await deps.profiles.findByIdentifier(identifier.value);
  const channel = profile ? recoveryChannel(profile, identifier) : undefined;
  let sent = false;
  if (profile && channel) {
    // Within a minute of the last code nothing new is sent; the earlier code still works, and saying so would tell who exists.
    const result = await sendCode(deps.codeDelivery, {
      profileId: profile.id,
      purpose: 'recover-access',
      target: identifier.value,
      channel,
      locale: chooseLocale(profile.locale, () => input.browserLocale),
    });
    sent = result.issued;
  }
  await deps.audit.record({
    kind: 'recovery.code_requested',
    profileId: profile?.id ?? null,
    ip: input.ip,
    clientId: input.clientId ?? null,
    detail: { channel: channel ?? null, sent },
  });
  return profile && channel ? { identifier: identifier.value, profileId: profile.id } : { identifier: identifier.value, decoy: newDecoyCode() };
}

export type ResetResult =
  | { outcome: 'recovered'; profileId: string }
  | { outcome: 'code-refused'; reason: CodeRefusal; recovery: PendingRecovery };

/**
 * Sets a new password with a recovery code, all or nothing: the code is used
 * up, the password replaced, the address the code reached marked confirmed
 * (the code proved it), and every session, grant and token of the profile
 * ended, since whoever knew the old password must not stay signed in; the
 * accounts those sessions reached are told once it has committed.
 * The password must already satisfy the policy.
 */
export async function resetPassword(
  deps: RecoveryDependencies,
  input: { recovery: PendingRecovery; code: string; password: string; ip: string; clientId?: string | undefined },
): Promise<ResetResult> {
  const { recovery } = input;
  // Hashed before the code is checked: outside the transaction, and the same time whether the identifier is known or not.
  const passwordHash = await hashPassword(input.password);
  const profileId = recovery.profileId;
  if (!profileId) {
    // An identifier that belongs to nobody has no code: every try is wrong, and it runs out of tries as a real code would.
    const refused = refuseDecoyCode(recovery.decoy ?? newDecoyCode());
    return { outcome: 'code-refused', reason: refused.reason, recovery: { ...recovery, decoy: refused.decoy } };
  }

  let logouts: BackchannelLogout[] = [];
  const result = await deps.db.transaction(async (trx): Promise<ResetResult> => {
    const verified = await deps.codeDelivery.codes.verify({ profileId, purpose: 'recover-access', code: input.code }, trx);
    if (!verified.valid) return { outcome: 'code-refused', reason: verified.reason, recovery };
    const column = verified.target.startsWith('+') ? 'phone' : 'email';
    const profile = await trx<Profile>('profiles').where({ id: profileId }).forUpdate().first();
    // The address changed since the code was sent: it no longer proves anything about this profile.
    if (!profile || profile[column] !== verified.target) return { outcome: 'code-refused', reason: 'expired', recovery };
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
  if (result.outcome === 'recovered') notifyBackchannelLogout(deps.provider, deps.logger, logouts);
  return result;
}
