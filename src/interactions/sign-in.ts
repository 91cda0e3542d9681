import type { AuditQueries } from '../db/audit.js';
import type { Profile, ProfileQueries } from '../db/profiles.js';
import { parseIdentifier } from '../profile/identifier.js';
import { checkPassword } from '../security/passwords.js';
import type { Metrics } from '../operations/metrics.js';
import type { SignInLimits } from '../security/rate-limits.js';

export type SignInResult =
  | { outcome: 'signed-in'; profile: Profile }
  | { outcome: 'invalid-identifier' }
  | { outcome: 'wrong-credentials' }
  | { outcome: 'throttled'; retryAfterSeconds: number };

export interface SignInDependencies {
  profiles: ProfileQueries;
  limits: SignInLimits;
  audit: AuditQueries;
  defaultPhoneRegion?: string | undefined;
  metrics: Pick<Metrics, 'signIns' | 'rateLimitRefusals'>;
}

/**
 * Password sign-in. An unknown identifier and a wrong password take the same
 * time and give the same answer, and are slowed alike (SignInLimits), so the
 * screen does not reveal who is registered.
 */
export async function signInWithPassword(
  deps: SignInDependencies,
  input: { identifier: string; password: string; ip: string; clientId?: string | undefined },
): Promise<SignInResult> {
  const identifier = parseIdentifier(input.identifier, deps.defaultPhoneRegion);
  if (!identifier) return { outcome: 'invalid-identifier' };

  const admission = await deps.limits.admit(identifier.value, input.ip);
  if (admission.refusedBy) {
    deps.metrics.rateLimitRefusals.inc({ limit: `sign_in_${admission.refusedBy}` });
    deps.metrics.signIns.inc({ outcome: admission.refusedBy === 'lock' ? 'locked' : 'throttled' });
    await deps.audit.record({ kind: 'signin.throttled', ip: input.ip, clientId: input.clientId ?? null });
    return { outcome: 'throttled', retryAfterSeconds: admission.wait };
  }

  const profile = await deps.profiles.findByIdentifier(identifier.value);
  // The sign-up email signs in before it is confirmed (the first sign-in confirms it); a phone only once confirmed.
  const usable = profile && (identifier.kind === 'email' || profile.phone_verified);
  const check = await checkPassword(usable ? profile.password_hash : undefined, input.password);

  if (!profile || !usable || !check.valid) {
    deps.metrics.signIns.inc({ outcome: 'wrong_password' });
    await deps.limits.recordFailure(identifier.value, input.ip);
    await deps.audit.record({
      kind: 'signin.failed',
      profileId: profile?.id ?? null,
      ip: input.ip,
      clientId: input.clientId ?? null,
    });
    return { outcome: 'wrong-credentials' };
  }

  if (check.rehash) await deps.profiles.updatePasswordHash(profile.id, check.rehash);
  await deps.limits.recordSuccess(identifier.value, input.ip);
  deps.metrics.signIns.inc({ outcome: 'success' });
  await deps.audit.record({ kind: 'signin.succeeded', profileId: profile.id, ip: input.ip, clientId: input.clientId ?? null });
  return { outcome: 'signed-in', profile };
}
