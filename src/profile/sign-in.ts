import type { Actor } from '../db/audit.js';
import type { Profile } from '../db/profiles.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import { checkPassword } from '../security/passwords.js';
import { parseIdentifier } from './identifier.js';
import type { ProfileServiceDependencies } from './profile-service.js';

export type SignInProblem = 'identifier-invalid' | 'wrong-credentials' | 'throttled' | 'profile-blocked';

/**
 * Password sign-in. An unknown identifier and a wrong password take the same
 * time and give the same answer, and are slowed alike (SignInLimits), so the
 * screen does not reveal who is registered. A blocked profile is told so only
 * with its right password.
 */
export async function signInWithPassword(
  deps: ProfileServiceDependencies,
  input: { identifier: string; password: string; clientId?: string | undefined },
  actor: Actor,
): Promise<Outcome<{ profile: Profile }, SignInProblem>> {
  const identifier = parseIdentifier(input.identifier, deps.defaultPhoneRegion);
  if (!identifier) return refuse('identifier-invalid');
  const ip = actor.ip ?? '';
  const clientId = input.clientId ?? null;

  const admission = await deps.limits.admit(identifier.value, ip);
  if (admission.refusedBy) {
    deps.metrics.rateLimitRefusals.inc({ limit: `sign_in_${admission.refusedBy}` });
    deps.metrics.signIns.inc({ outcome: admission.refusedBy === 'lock' ? 'locked' : 'throttled' });
    await deps.queries.audit.record({ kind: 'signin.throttled', clientId, actor });
    return refuse('throttled', { retryAfterSeconds: admission.wait });
  }

  const profile = await deps.queries.profiles.findByIdentifier(identifier.value);
  // The sign-up email signs in before it is confirmed (the first sign-in confirms it); a phone only once confirmed.
  const usable = profile && (identifier.kind === 'email' || profile.phone_verified);
  const check = await checkPassword(usable ? profile.password_hash : undefined, input.password);

  if (!profile || !usable || !check.valid) {
    deps.metrics.signIns.inc({ outcome: 'wrong_password' });
    await deps.limits.recordFailure(identifier.value, ip);
    await deps.queries.audit.record({ kind: 'signin.failed', profileId: profile?.id ?? null, clientId, actor });
    return refuse('wrong-credentials');
  }

  if (check.rehash) await deps.queries.profiles.setPasswordHash(profile.id, check.rehash);
  await deps.limits.recordSuccess(identifier.value, ip);
  if (profile.blocked_at) {
    deps.metrics.signIns.inc({ outcome: 'blocked' });
    await deps.queries.audit.record({ kind: 'signin.blocked', profileId: profile.id, clientId, actor });
    return refuse('profile-blocked');
  }
  deps.metrics.signIns.inc({ outcome: 'success' });
  await deps.queries.audit.record({ kind: 'signin.succeeded', profileId: profile.id, clientId, actor: { ...actor, profileId: profile.id } });
  return ok({ profile });
}
