import type { NetworkVisitor } from './network-session.js';

/** How recent a sign-in must be before a change that adds a way into the profile (connecting a provider). */
export const RECENT_SIGN_IN_SECONDS = 5 * 60;

/**
 * Whether the browser signed in within the last few minutes: someone at a
 * browser left signed in must sign in again, with the profile's own method,
 * before adding a way into the profile. Kept to these two functions so the
 * pages can move to the shared re-authentication helper without other change.
 */
export function signedInRecently(visitor: Pick<NetworkVisitor, 'signedInAt'>, now = Date.now()): boolean {
  return visitor.signedInAt !== undefined && now / 1000 - visitor.signedInAt <= RECENT_SIGN_IN_SECONDS;
}

/** Where to send the browser for a fresh sign-in (prompt=login) that comes back to `returnTo`. */
export function freshSignInUrl(returnTo: string): string {
  return `/network/sign-in?prompt=login&return=${encodeURIComponent(returnTo)}`;
}
