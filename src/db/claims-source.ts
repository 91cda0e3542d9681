import type { Database } from './database.js';
import type { Membership } from './memberships.js';
import { createStatementRunner, preparedStatement } from './prepared-statements.js';
import type { Profile } from './profiles.js';

/** What claims are made of: the profile, never its password hash. */
export type ClaimsProfile = Pick<
  Profile,
  'id' | 'email' | 'email_verified' | 'phone' | 'phone_verified' | 'first_name' | 'last_name' | 'photo' | 'locale' | 'updated_at'
>;

/** The membership's copy of the person's data, with the account's name. */
export type ClaimsMembership = Pick<
  Membership,
  'role' | 'state' | 'first_name' | 'last_name' | 'photo' | 'mobile_phone' | 'contact_email' | 'updated_at'
> & { account_name: string };

/** The columns CLAIMS_COLUMNS selects; all null when no profile matched. */
export interface ClaimsRow extends ClaimsProfile {
  m_role: Membership['role'] | null;
  m_state: Membership['state'];
  m_first_name: string | null;
  m_last_name: string | null;
  m_photo: string | null;
  m_mobile_phone: string | null;
  m_contact_email: string | null;
  m_updated_at: Date;
  account_name: string;
}

/** What claims read, from profiles `p`, memberships `m` and accounts `a`; shared with the token lookup (src/oidc/model-lookup.ts). */
export const CLAIMS_COLUMNS = `p.id, p.email, p.email_verified, p.phone, p.phone_verified, p.first_name, p.last_name, p.photo, p.locale, p.updated_at,
  m.role as m_role, m.state as m_state, m.first_name as m_first_name, m.last_name as m_last_name, m.photo as m_photo,
  m.mobile_phone as m_mobile_phone, m.contact_email as m_contact_email, m.updated_at as m_updated_at,
  a.name as account_name`;

/**
 * Profile and membership in one statement: every token an account's client
 * gets (code exchange, refresh, userinfo) needs both, and two queries were
 * two round trips per token.
 */
const readClaims = preparedStatement(
  'claims_source',
  `select ${CLAIMS_COLUMNS}
     from profiles p
     left join memberships m on m.profile_id = p.id and m.account_id = ?::uuid
     left join accounts a on a.id = m.account_id
    where p.id = ?::uuid`,
);

// Subjects come from NetID's own tokens; anything else cannot name a profile and must not reach a uuid cast.
const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const UUID = new RegExp(UUID_PATTERN, 'i');

/** SQL that turns a text expression into a uuid, or null when it is not one, instead of failing the statement. */
export function uuidOrNull(expression: string): string {
  return `case when ${expression} ~* '${UUID_PATTERN}' then (${expression})::uuid end`;
}

export interface ClaimsSource {
  profile: ClaimsProfile;
  /** Present when the client is an account's and the profile is a member of it (in any state). */
  membership: ClaimsMembership | undefined;
}

/** Splits a row of CLAIMS_COLUMNS into the profile and the membership it found. */
export function claimsSourceFrom(row: ClaimsRow): ClaimsSource {
  const profile: ClaimsProfile = {
    id: row.id,
    email: row.email,
    email_verified: row.email_verified,
    phone: row.phone,
    phone_verified: row.phone_verified,
    first_name: row.first_name,
    last_name: row.last_name,
    photo: row.photo,
    locale: row.locale,
    updated_at: row.updated_at,
  };
  const membership: ClaimsMembership | undefined = row.m_role
    ? {
        role: row.m_role,
        state: row.m_state,
        first_name: row.m_first_name,
        last_name: row.m_last_name,
        photo: row.m_photo,
        mobile_phone: row.m_mobile_phone,
        contact_email: row.m_contact_email,
        updated_at: row.m_updated_at,
        account_name: row.account_name,
      }
    : undefined;
  return { profile, membership };
}

export function createClaimsSourceQueries(db: Database) {
  const run = createStatementRunner(db);
  return {
    /** The profile `profileId`, and its membership in `accountId` when one is given. */
    async find(profileId: string, accountId: string | undefined): Promise<ClaimsSource | undefined> {
      if (!UUID.test(profileId) || (accountId !== undefined && !UUID.test(accountId))) return undefined;
      const row = (await run<ClaimsRow>(readClaims, [accountId ?? null, profileId])).rows[0];
      return row ? claimsSourceFrom(row) : undefined;
    },
  };
}
