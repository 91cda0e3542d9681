import type { ClaimsMembership, ClaimsProfile } from '../db/claims-source.js';

/** The scopes NetID answers itself, and the claims each one releases. */
export const SCOPE_CLAIMS = {
  // How and when the person signed in travels with every ID token (OIDC Core 2).
  openid: ['sub', 'auth_time', 'acr', 'amr'],
  profile: ['given_name', 'family_name', 'name', 'picture', 'locale', 'updated_at'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  membership: ['membership'],
};

/** What NetID can state about a profile; oidc-provider filters it by scope and `claims`. */
export type ProfileClaims = Record<string, unknown> & { sub: string };

const epoch = (d: Date) => Math.floor(d.getTime() / 1000);
const present = (value: string | null | undefined) => (value ? value : undefined);

/**
 * Claims for a relying party. An account's client reads the membership's copy
 * of the person's data first and the profile second (product.md, "Tokens
 * issued to an account"); any other client reads the profile.
 *
 * Names and photo fall back to the profile where the copy is empty. Contact
 * details do not: a membership starts with a copy of them, and a phone or
 * email connected later reaches an account only when the person chose to
 * update their accounts (product.md 6), so an empty copy means the account
 * has none.
 */
export function profileClaims(
  profile: ClaimsProfile,
  membership: ClaimsMembership | undefined,
  photoUrl: (photo: string) => string,
): ProfileClaims {
  const givenName = present(membership?.first_name) ?? present(profile.first_name);
  const familyName = present(membership?.last_name) ?? present(profile.last_name);
  const photo = present(membership?.photo) ?? present(profile.photo);

  const email = membership ? present(membership.contact_email) : present(profile.email);
  // A membership copy is verified only when it is the address the profile confirmed.
  const emailVerified = email !== undefined && email === profile.email && profile.email_verified;

  const phone = membership ? present(membership.mobile_phone) : present(profile.phone);
  const phoneVerified = phone !== undefined && phone === profile.phone && profile.phone_verified;

  const updatedAt = Math.max(epoch(profile.updated_at), membership ? epoch(membership.updated_at) : 0);

  return {
    sub: profile.id,
    given_name: givenName,
    family_name: familyName,
    name: [givenName, familyName].filter(Boolean).join(' ') || undefined,
    picture: photo ? photoUrl(photo) : undefined,
    locale: present(profile.locale),
    updated_at: updatedAt,
    email,
    email_verified: email === undefined ? undefined : emailVerified,
    phone_number: phone,
    phone_number_verified: phone === undefined ? undefined : phoneVerified,
    membership: membership
      ? { account: membership.account_name, role: membership.role, state: membership.state }
      : undefined,
  };
}
