import type { Identity } from '../db/identities.js';
import type { Profile } from '../db/profiles.js';

/**
 * The last sign-in method (product.md 8): the one identity of a profile that
 * has no other way in, neither a password nor a confirmed email or phone
 * (either of which recovers access through "Forgot password?"). That identity
 * cannot be disconnected: the person would be locked out of their profile
 * for good. Undefined when every identity may go.
 */
export function lastSignInMethod(
  profile: Pick<Profile, 'password_hash' | 'email' | 'email_verified' | 'phone' | 'phone_verified'>,
  identities: readonly Identity[],
): Identity | undefined {
  const otherWayIn = Boolean(profile.password_hash) || Boolean(profile.email && profile.email_verified) || Boolean(profile.phone && profile.phone_verified);
  return !otherWayIn && identities.length === 1 ? identities[0] : undefined;
}
