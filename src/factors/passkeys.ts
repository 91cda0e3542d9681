import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Actor } from '../db/audit.js';
import type { Passkey } from '../db/factors.js';
import type { Profile } from '../db/profiles.js';
import { AMR } from '../oidc/authentication-context.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import type { FactorServiceDependencies } from './factor-service.js';
import { forgetRecoveryCodesWithoutFactor } from './recovery-codes.js';

/** WebAuthn's relying party is NetID itself: its ID the issuer's host, its origin the issuer's. */
export function relyingPartyOf(issuer: string): { rpID: string; origin: string; rpName: string } {
  const url = new URL(issuer);
  return { rpID: url.hostname, origin: url.origin, rpName: 'Bitrix24 Network' };
}

export const PASSKEY_NAME_MAX = 60;

export type PasskeyProblem = 'passkey-invalid' | 'passkey-name-invalid' | 'passkey-not-found';

const isId = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

function checkName(name: string): string | undefined {
  const trimmed = name.trim();
  return trimmed && trimmed.length <= PASSKEY_NAME_MAX && !/\p{Cc}/u.test(trimmed) ? trimmed : undefined;
}

/** A profile's WebAuthn user handle: its id as 16 bytes, which tells nothing about the person. */
const userHandleOf = (profile: Profile) => new Uint8Array(Buffer.from(profile.id.replace(/-/g, ''), 'hex'));

function parse<T>(json: string): T | undefined {
  try {
    const value = JSON.parse(json) as unknown;
    return value && typeof value === 'object' ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the browser needs to create a passkey for the profile. A discoverable
 * credential, so it can later sign in without a password; the profile's other
 * passkeys are excluded, so one authenticator is not registered twice.
 */
export async function passkeyRegistrationOptions(
  deps: FactorServiceDependencies,
  profile: Profile,
): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; challenge: string }> {
  const { rpID, rpName } = relyingPartyOf(deps.issuer);
  const existing = await deps.queries.factors.passkeys.list(profile.id);
  const options = await generateRegistrationOptions({
    rpName,
    rpID,
    userID: userHandleOf(profile),
    userName: profile.email ?? profile.phone ?? profile.id,
    userDisplayName: [profile.first_name, profile.last_name].filter(Boolean).join(' '),
    attestationType: 'none',
    excludeCredentials: existing.map((passkey) => ({ id: passkey.credential_id, transports: passkey.transports })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
  });
  return { options, challenge: options.challenge };
}

/** Stores a passkey the browser created for the challenge it was given. */
export async function registerPasskey(
  deps: FactorServiceDependencies,
  profile: Profile,
  input: { response: string; challenge: string; name: string },
  actor: Actor,
): Promise<Outcome<{ passkey: Passkey }, PasskeyProblem>> {
  const name = checkName(input.name);
  if (!name) return refuse('passkey-name-invalid');
  const response = parse<RegistrationResponseJSON>(input.response);
  if (!response || !input.challenge) return refuse('passkey-invalid');
  const { rpID, origin } = relyingPartyOf(deps.issuer);
  const verification = await verifyRegistrationResponse({ response, expectedChallenge: input.challenge, expectedOrigin: origin, expectedRPID: rpID }).catch(() => undefined);
  if (!verification?.verified) return refuse('passkey-invalid');
  const { credential, credentialDeviceType, credentialBackedUp } = verification.registrationInfo;
  if (await deps.queries.factors.passkeys.findByCredentialId(credential.id)) return refuse('passkey-invalid');
  return deps.queries.transaction(async (queries) => {
    const passkey = await queries.factors.passkeys.insert({
      profileId: profile.id,
      credentialId: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: credential.transports ?? response.response.transports ?? [],
      deviceType: credentialDeviceType,
      backedUp: credentialBackedUp,
      name,
    });
    await queries.audit.record({ kind: 'factor.passkey_added', profileId: profile.id, actor, detail: { passkey: passkey.id } });
    return ok({ passkey });
  });
}

/**
 * A challenge to sign: for one profile's passkeys (the second step after a
 * password), or, without one, for any discoverable passkey of NetID's (a
 * sign-in without a password), which must then verify the person itself.
 */
export async function passkeyAuthenticationOptions(
  deps: FactorServiceDependencies,
  profileId?: string,
): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; challenge: string }> {
  const { rpID } = relyingPartyOf(deps.issuer);
  const allowed = profileId ? await deps.queries.factors.passkeys.list(profileId) : [];
  const options = await generateAuthenticationOptions({
    rpID,
    allowCredentials: allowed.map((passkey) => ({ id: passkey.credential_id, transports: passkey.transports })),
    userVerification: profileId ? 'preferred' : 'required',
  });
  return { options, challenge: options.challenge };
}

/**
 * Checks a passkey's signature over the challenge. `profileId` limits it to
 * that profile's passkeys (a second factor). The `amr` says what it proved:
 * a key bound to one device (`hwk`) or a synced one (`swk`), the person's
 * presence, and, when the authenticator verified the person (PIN or
 * biometric) without a password before it, two factors in one (`mfa`).
 */
export async function authenticatePasskey(
  deps: FactorServiceDependencies,
  input: { response: string; challenge: string; profileId?: string | undefined },
  actor: Actor,
): Promise<Outcome<{ profile: Profile; amr: string[] }, 'passkey-invalid'>> {
  const response = parse<AuthenticationResponseJSON>(input.response);
  if (!response || typeof response.id !== 'string' || !input.challenge) return refuse('passkey-invalid');
  const passkey = await deps.queries.factors.passkeys.findByCredentialId(response.id);
  if (!passkey || (input.profileId && passkey.profile_id !== input.profileId)) return refuse('passkey-invalid');
  const { rpID, origin } = relyingPartyOf(deps.issuer);
  const passwordless = !input.profileId;
  const verification = await verifyAuthenticationResponse({
    response,
    expectedChallenge: input.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    credential: { id: passkey.credential_id, publicKey: new Uint8Array(Buffer.from(passkey.public_key, 'base64url')), counter: Number(passkey.counter), transports: passkey.transports },
    requireUserVerification: passwordless,
  }).catch(() => undefined);
  if (!verification?.verified) return refuse('passkey-invalid');
  // A counter that did not move on (a cloned authenticator, or a response replayed meanwhile) is refused.
  if (!(await deps.queries.factors.passkeys.recordUse(passkey.id, verification.authenticationInfo.newCounter))) return refuse('passkey-invalid');
  const profile = await deps.queries.profiles.findById(passkey.profile_id);
  if (!profile) return refuse('passkey-invalid');
  const key = verification.authenticationInfo.credentialDeviceType === 'multiDevice' ? AMR.softwareKey : AMR.hardwareKey;
  const amr = [key, AMR.userPresence, ...(passwordless && verification.authenticationInfo.userVerified ? [AMR.multipleFactors] : [])];
  await deps.queries.audit.record({ kind: 'factor.passkey_used', profileId: profile.id, actor: { ...actor, profileId: profile.id }, detail: { passkey: passkey.id, passwordless } });
  return ok({ profile, amr });
}

export async function renamePasskey(deps: FactorServiceDependencies, profileId: string, id: string, name: string, actor: Actor): Promise<Outcome<object, PasskeyProblem>> {
  const checked = checkName(name);
  if (!checked) return refuse('passkey-name-invalid');
  if (!isId(id)) return refuse('passkey-not-found');
  if (!(await deps.queries.factors.passkeys.rename(profileId, id, checked))) return refuse('passkey-not-found');
  await deps.queries.audit.record({ kind: 'factor.passkey_renamed', profileId, actor, detail: { passkey: id } });
  return ok({});
}

export async function removePasskey(deps: FactorServiceDependencies, profileId: string, id: string, actor: Actor): Promise<Outcome<object, PasskeyProblem>> {
  if (!isId(id)) return refuse('passkey-not-found');
  return deps.queries.transaction(async (queries) => {
    if (!(await queries.factors.passkeys.remove(profileId, id))) return refuse('passkey-not-found');
    await queries.audit.record({ kind: 'factor.passkey_removed', profileId, actor, detail: { passkey: id } });
    await forgetRecoveryCodesWithoutFactor(queries, profileId);
    return ok({});
  });
}
