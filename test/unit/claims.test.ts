import { describe, expect, test } from '@jest/globals';
import type { Profile } from '../../src/db/profiles.js';
import type { ClaimsMembership } from '../../src/db/claims-source.js';
import { profileClaims } from '../../src/oidc/claims.js';

const photoUrl = (photo: string) => `https://id.example.com/photos/${photo}`;

function profile(overrides: Partial<Profile> = {}): Profile {
  return {
    id: '7d1e1c52-8a0e-4f7e-9a4c-0b8c2a7d3f10',
    email: 'ada@example.com',
    email_verified: true,
    phone: '+14155552671',
    phone_verified: true,
    password_hash: 'not read by claims',
    first_name: 'Ada',
    last_name: 'Lovelace',
    photo: 'ada.jpg',
    locale: 'en-GB',
    blocked_at: null,
    created_at: new Date('2025-01-01T00:00:00Z'),
    updated_at: new Date('2025-03-01T00:00:00Z'),
    ...overrides,
  };
}

function membership(overrides: Partial<ClaimsMembership> = {}): ClaimsMembership {
  return {
    account_name: 'analytical-engines',
    role: 'user',
    state: 'active',
    first_name: null,
    last_name: null,
    photo: null,
    mobile_phone: null,
    contact_email: null,
    updated_at: new Date('2025-02-01T00:00:00Z'),
    ...overrides,
  };
}

/** What a relying party receives: the claims as JSON, where undefined members vanish. */
const asJson = (claims: object) => JSON.parse(JSON.stringify(claims)) as Record<string, unknown>;

describe('profileClaims without an account', () => {
  test('states the profile as it is', () => {
    expect(asJson(profileClaims(profile(), undefined, photoUrl))).toEqual({
      sub: '7d1e1c52-8a0e-4f7e-9a4c-0b8c2a7d3f10',
      given_name: 'Ada',
      family_name: 'Lovelace',
      name: 'Ada Lovelace',
      picture: 'https://id.example.com/photos/ada.jpg',
      locale: 'en-GB',
      updated_at: Date.parse('2025-03-01T00:00:00Z') / 1000,
      email: 'ada@example.com',
      email_verified: true,
      phone_number: '+14155552671',
      phone_number_verified: true,
    });
  });

  test('reports an unconfirmed email and phone as unverified', () => {
    const claims = profileClaims(profile({ email_verified: false, phone_verified: false }), undefined, photoUrl);
    expect(claims).toMatchObject({
      email: 'ada@example.com',
      email_verified: false,
      phone_number: '+14155552671',
      phone_number_verified: false,
    });
  });

  test('says nothing about verification for an email or phone the profile does not have', () => {
    const json = asJson(profileClaims(profile({ email: null, phone: null }), undefined, photoUrl));
    for (const claim of ['email', 'email_verified', 'phone_number', 'phone_number_verified']) {
      expect(json).not.toHaveProperty(claim);
    }
  });

  test('omits empty names, photo and locale instead of sending empty strings', () => {
    const json = asJson(profileClaims(profile({ first_name: '', last_name: '', photo: '', locale: '' }), undefined, photoUrl));
    for (const claim of ['given_name', 'family_name', 'name', 'picture', 'locale']) {
      expect(json).not.toHaveProperty(claim);
    }
    expect(Object.values(json)).not.toContain('');
  });

  test('builds name from whichever half is present', () => {
    expect(profileClaims(profile({ last_name: '' }), undefined, photoUrl).name).toBe('Ada');
    expect(profileClaims(profile({ first_name: '' }), undefined, photoUrl).name).toBe('Lovelace');
  });
});

describe('profileClaims for an account', () => {
  test('states the membership as account, role and state', () => {
    const claims = profileClaims(profile(), membership({ role: 'admin', state: 'invited' }), photoUrl);
    expect(claims.membership).toEqual({ account: 'analytical-engines', role: 'admin', state: 'invited' });
  });

  test('falls back to the profile for names and photo where the membership holds no copy', () => {
    const claims = profileClaims(profile(), membership(), photoUrl);
    expect(claims).toMatchObject({
      given_name: 'Ada',
      family_name: 'Lovelace',
      picture: 'https://id.example.com/photos/ada.jpg',
    });
  });

  test('gives an account no contact details its membership does not hold', () => {
    const claims = profileClaims(profile(), membership(), photoUrl);
    expect(claims.email).toBeUndefined();
    expect(claims.email_verified).toBeUndefined();
    expect(claims.phone_number).toBeUndefined();
    expect(claims.phone_number_verified).toBeUndefined();
  });

  test("gives other clients the profile's own email and phone", () => {
    expect(profileClaims(profile(), undefined, photoUrl)).toMatchObject({
      email: 'ada@example.com',
      email_verified: true,
      phone_number: '+14155552671',
      phone_number_verified: true,
    });
  });

  test('reads the membership copy before the profile', () => {
    const claims = profileClaims(
      profile(),
      membership({
        first_name: 'Augusta',
        last_name: 'King',
        photo: 'work.png',
        contact_email: 'a.king@engines.example',
        mobile_phone: '+442079460958',
      }),
      photoUrl,
    );
    expect(claims).toMatchObject({
      given_name: 'Augusta',
      family_name: 'King',
      name: 'Augusta King',
      picture: 'https://id.example.com/photos/work.png',
      email: 'a.king@engines.example',
      phone_number: '+442079460958',
    });
  });

  test('treats an empty copy of names and photo as no copy', () => {
    const claims = profileClaims(profile(), membership({ first_name: '', last_name: '', photo: '' }), photoUrl);
    expect(claims).toMatchObject({
      given_name: 'Ada',
      family_name: 'Lovelace',
      picture: 'https://id.example.com/photos/ada.jpg',
    });
  });

  test('does not vouch for a contact email or phone NetID never confirmed', () => {
    const claims = profileClaims(
      profile(),
      membership({ contact_email: 'a.king@engines.example', mobile_phone: '+442079460958' }),
      photoUrl,
    );
    expect(claims.email_verified).toBe(false);
    expect(claims.phone_number_verified).toBe(false);
  });

  test('vouches for a contact email or phone that is the one the profile confirmed', () => {
    const claims = profileClaims(
      profile(),
      membership({ contact_email: 'ada@example.com', mobile_phone: '+14155552671' }),
      photoUrl,
    );
    expect(claims.email_verified).toBe(true);
    expect(claims.phone_number_verified).toBe(true);
  });

  test('does not vouch for a copy of the profile email that the profile itself has not confirmed', () => {
    const claims = profileClaims(profile({ email_verified: false }), membership({ contact_email: 'ada@example.com' }), photoUrl);
    expect(claims.email_verified).toBe(false);
  });

  test('gives a contact email even when the profile has none, unverified', () => {
    const claims = profileClaims(profile({ email: null }), membership({ contact_email: 'a.king@engines.example' }), photoUrl);
    expect(claims).toMatchObject({ email: 'a.king@engines.example', email_verified: false });
  });

  test('reports the later of the profile and membership changes as updated_at', () => {
    const later = new Date('2025-06-01T12:00:00Z');
    expect(profileClaims(profile(), membership({ updated_at: later }), photoUrl).updated_at).toBe(later.getTime() / 1000);
    expect(profileClaims(profile(), membership(), photoUrl).updated_at).toBe(Date.parse('2025-03-01T00:00:00Z') / 1000);
  });
});
