import { randomUUID } from 'node:crypto';
import type { Actor } from '../db/audit.js';
import type { Identity, IdentityKey, SeenData } from '../db/identities.js';
import type { Profile } from '../db/profiles.js';
import type { Queries } from '../db/queries.js';
import type { UpstreamIdentity } from '../federation/provider.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import { noticeExistingProfile } from './existing-profile-notice.js';
import { normaliseEmail } from './identifier.js';
import { renderPhoto, type PhotoSize } from './profile-photo.js';
import type { ProfileServiceDependencies } from './profile-service.js';
import { lastSignInMethod } from './sign-in-methods.js';

const UNIQUE_VIOLATION = '23505';
const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === UNIQUE_VIOLATION;

const keyOf = (upstream: UpstreamIdentity): IdentityKey => ({ provider: upstream.provider, issuer: upstream.issuer, subject: upstream.subject });
const seenIn = (upstream: UpstreamIdentity): SeenData => ({
  email: upstream.email,
  emailVerified: upstream.emailVerified,
  firstName: upstream.names.first,
  lastName: upstream.names.last,
  photoUrl: upstream.photo,
});

export type IdentitySignIn =
  | { outcome: 'signed-in'; profile: Profile }
  | { outcome: 'signed-up'; profile: Profile }
  /**
   * The provider's email, which it does not vouch for, belongs to a profile:
   * nothing was created, the owner of the address was told by email, and the
   * caller answers as for a new profile whose email needs confirming.
   */
  | { outcome: 'email-taken'; email: string };

export type IdentitySignInProblem = 'identity-email-taken' | 'profile-blocked' | 'sign-up-throttled';

export interface IdentitySignInRequest {
  locale: string;
  actor: Actor;
  /** The person came through an invitation's link to the provider's email: they join that account instead of getting one. */
  invited: boolean;
  /** The sign-up limit per client address, asked only when a profile would be created. */
  admitSignUp(): Promise<{ admitted: true } | { admitted: false; retryAfterSeconds: number }>;
}

/**
 * Signing in with an upstream identity (product.md 8). A known identity signs
 * in to its profile. An unknown one signs up a new profile with what the
 * provider said, unless the provider's email already belongs to a profile: an
 * email match alone never links, and never signs in to that profile. When the
 * provider vouches for the email the person is told, and may connect the
 * identity once signed in to that profile with its own method; when it does
 * not, the answer is the same as for a sign-up with that email, so it does
 * not tell who is registered.
 */
export async function signInWithIdentity(
  deps: ProfileServiceDependencies,
  upstream: UpstreamIdentity,
  request: IdentitySignInRequest,
): Promise<Outcome<IdentitySignIn, IdentitySignInProblem>> {
  // Compared and stored as every email is: the provider's spelling must not make a second owner of an address.
  upstream = { ...upstream, email: upstream.email ? normaliseEmail(upstream.email) : undefined };
  const known = await signInKnown(deps, upstream, request.actor);
  if (known) return known;

  const owner = upstream.email ? await deps.queries.profiles.findByIdentifier(upstream.email) : undefined;
  if (owner) return emailTaken(deps, upstream, owner, request);

  const admission = await request.admitSignUp();
  if (!admission.admitted) return refuse('sign-up-throttled', { retryAfterSeconds: admission.retryAfterSeconds });
  // Fetched before the transaction: a slow photo host must not hold a connection and locks.
  const photo = upstream.photo ? await deps.downloadPhoto(upstream.photo) : undefined;
  const sizes = photo ? await renderPhoto(photo) : undefined;
  try {
    const profile = await deps.queries.transaction((queries) => createWithIdentity(deps, queries, upstream, request, sizes?.ok ? sizes.sizes : undefined));
    return ok({ outcome: 'signed-up' as const, profile });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // Another sign-in with the same identity or email committed first: decide again on what it stored.
    const winner = await signInKnown(deps, upstream, request.actor);
    if (winner) return winner;
    const taken = upstream.email ? await deps.queries.profiles.findByIdentifier(upstream.email) : undefined;
    if (taken) return emailTaken(deps, upstream, taken, request);
    throw error;
  }
}

async function signInKnown(deps: ProfileServiceDependencies, upstream: UpstreamIdentity, actor: Actor): Promise<Outcome<IdentitySignIn, IdentitySignInProblem> | undefined> {
  const identity = await deps.queries.identities.find(keyOf(upstream));
  if (!identity) return undefined;
  const profile = await deps.queries.profiles.findById(identity.profile_id);
  if (!profile) return undefined;
  await deps.queries.identities.recordUse(identity.id, seenIn(upstream));
  const detail = { method: 'fed', provider: upstream.provider };
  if (profile.blocked_at) {
    await deps.queries.audit.record({ kind: 'signin.blocked', profileId: profile.id, actor, detail });
    return refuse('profile-blocked');
  }
  await deps.queries.audit.record({ kind: 'signin.succeeded', profileId: profile.id, actor: { ...actor, profileId: profile.id }, detail });
  return ok({ outcome: 'signed-in' as const, profile });
}

async function emailTaken(
  deps: ProfileServiceDependencies,
  upstream: UpstreamIdentity,
  owner: Profile,
  request: IdentitySignInRequest,
): Promise<Outcome<IdentitySignIn, IdentitySignInProblem>> {
  if (upstream.emailVerified) {
    await deps.queries.audit.record({ kind: 'signup.identity_email_taken', profileId: owner.id, actor: request.actor, detail: { provider: upstream.provider } });
    return refuse('identity-email-taken');
  }
  await noticeExistingProfile(deps, { profile: owner, email: upstream.email!, browserLocale: request.locale, actor: request.actor });
  return ok({ outcome: 'email-taken' as const, email: upstream.email! });
}

/** A new profile made from what the provider said, its identity, and its first account (or the invitation's), in one transaction. */
async function createWithIdentity(
  deps: ProfileServiceDependencies,
  queries: Queries,
  upstream: UpstreamIdentity,
  request: IdentitySignInRequest,
  photo: Map<PhotoSize, Buffer> | undefined,
): Promise<Profile> {
  let profile = await queries.profiles.insert({
    email: upstream.email ?? null,
    emailVerified: Boolean(upstream.email) && upstream.emailVerified,
    firstName: upstream.names.first ?? '',
    lastName: upstream.names.last ?? '',
    locale: request.locale,
  });
  const actor: Actor = { ...request.actor, kind: 'profile', profileId: profile.id };
  await queries.identities.insert(profile.id, keyOf(upstream), seenIn(upstream));
  if (photo) {
    const id = randomUUID();
    await queries.photos.insert(id, profile.id, photo);
    await queries.profiles.setPhoto(profile.id, id);
    profile = { ...profile, photo: id };
  }
  const account = request.invited ? undefined : await deps.accounts.createIn(queries, profile.id, actor);
  if (upstream.email && upstream.emailVerified) await deps.memberships.acceptInvitations(queries, profile.id, upstream.email, actor);
  await queries.audit.record({
    kind: 'profile.signed_up',
    profileId: profile.id,
    accountId: account?.ok ? account.account.id : null,
    actor,
    detail: { provider: upstream.provider },
  });
  return profile;
}

export type ConnectProblem = 'identity-taken' | 'identity-provider-connected' | 'profile-not-found';

/**
 * Connects an upstream identity to a signed-in profile (whose browser has
 * just proven it with a fresh sign-in). An identity linked to another profile
 * is refused, never moved: profiles are never combined. One identity per
 * provider.
 */
export async function connectIdentity(
  deps: ProfileServiceDependencies,
  profileId: string,
  upstream: UpstreamIdentity,
  actor: Actor,
): Promise<Outcome<{ identity: Identity; already: boolean }, ConnectProblem>> {
  try {
    return await deps.queries.transaction(async (queries): Promise<Outcome<{ identity: Identity; already: boolean }, ConnectProblem>> => {
      if (!(await queries.profiles.findByIdForUpdate(profileId))) return refuse('profile-not-found');
      const existing = await queries.identities.find(keyOf(upstream));
      if (existing && existing.profile_id !== profileId) {
        await queries.audit.record({ kind: 'identity.connect_refused', profileId, actor, detail: { provider: upstream.provider } });
        return refuse('identity-taken');
      }
      if (existing) {
        await queries.identities.recordUse(existing.id, seenIn(upstream));
        return ok({ identity: existing, already: true });
      }
      const mine = await queries.identities.listForProfileForUpdate(profileId);
      if (mine.some((identity) => identity.provider === upstream.provider)) return refuse('identity-provider-connected');
      const identity = await queries.identities.insert(profileId, keyOf(upstream), seenIn(upstream));
      await queries.audit.record({ kind: 'identity.connected', profileId, actor, detail: { provider: upstream.provider } });
      return ok({ identity, already: false });
    });
  } catch (error) {
    // The same identity connected to another profile at the same moment.
    if (isUniqueViolation(error)) return refuse('identity-taken');
    throw error;
  }
}

export type DisconnectProblem = 'identity-not-found' | 'last-sign-in-method';

/** Disconnects one of the profile's identities, unless it is the last way to sign in (lastSignInMethod). */
export async function disconnectIdentity(
  deps: ProfileServiceDependencies,
  profileId: string,
  identityId: string,
  actor: Actor,
): Promise<Outcome<{ identity: Identity }, DisconnectProblem>> {
  return deps.queries.transaction(async (queries): Promise<Outcome<{ identity: Identity }, DisconnectProblem>> => {
    // Locked, so a password removed or another identity disconnected at the same moment cannot leave none.
    const profile = await queries.profiles.findByIdForUpdate(profileId);
    const identities = profile ? await queries.identities.listForProfileForUpdate(profileId) : [];
    const identity = identities.find((candidate) => candidate.id === identityId);
    if (!profile || !identity) return refuse('identity-not-found');
    if (lastSignInMethod(profile, identities)?.id === identity.id) return refuse('last-sign-in-method');
    await queries.identities.delete(profileId, identity.id);
    await queries.audit.record({ kind: 'identity.disconnected', profileId, actor, detail: { provider: identity.provider } });
    return ok({ identity });
  });
}
