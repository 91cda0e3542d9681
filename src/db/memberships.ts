import type { Database } from './database.js';

export type MembershipRole = 'admin' | 'user';
export type MembershipState = 'invited' | 'active' | 'dismissed';

export interface Membership {
  account_id: string;
  profile_id: string;
  role: MembershipRole;
  state: MembershipState;
  first_name: string | null;
  last_name: string | null;
  photo: string | null;
  mobile_phone: string | null;
  contact_email: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ProfileMembership extends Membership {
  account_name: string;
  account_renamed_at: Date | null;
  /** The account client's third-party-initiated login endpoint (OIDC Core 4). */
  initiate_login_uri: string | null;
}

export function createMembershipQueries(db: Database) {
  return {
    async find(
      accountId: string,
      profileId: string,
      trx: Database = db,
    ): Promise<(Membership & { account_name: string }) | undefined> {
      return trx('memberships')
        .join('accounts', 'accounts.id', 'memberships.account_id')
        .where({ 'memberships.account_id': accountId, 'memberships.profile_id': profileId })
        .first('memberships.*', 'accounts.name as account_name');
    },

    /**
     * Starts the membership's copy of the person's data from the profile as it
     * is now; later profile edits reach the account only when the person asks.
     */
    async insert(
      membership: { accountId: string; profileId: string; role: MembershipRole; state: MembershipState },
      trx: Database = db,
    ): Promise<Membership> {
      const profile = await trx('profiles')
        .where({ id: membership.profileId })
        .first<{ first_name: string; last_name: string; photo: string | null; email: string | null; phone: string | null; phone_verified: boolean } | undefined>(
          'first_name',
          'last_name',
          'photo',
          'email',
          'phone',
          'phone_verified',
        );
      const [row] = await trx<Membership>('memberships')
        .insert({
          account_id: membership.accountId,
          profile_id: membership.profileId,
          role: membership.role,
          state: membership.state,
          first_name: profile?.first_name || null,
          last_name: profile?.last_name || null,
          photo: profile?.photo ?? null,
          contact_email: profile?.email ?? null,
          mobile_phone: profile?.phone_verified ? profile.phone : null,
        })
        .returning('*');
      return row as Membership;
    },

    /** Copies fields into every membership the profile has in an invited or active state. */
    async updateConnected(
      profileId: string,
      copy: Partial<Pick<Membership, 'first_name' | 'last_name' | 'photo' | 'mobile_phone' | 'contact_email'>>,
      trx: Database = db,
    ): Promise<number> {
      const changed = await trx('memberships')
        .where('profile_id', profileId)
        .whereIn('state', ['invited', 'active'])
        .update({ ...copy, updated_at: trx.fn.now() });
      return Number(changed);
    },

    /** Moves only from `from`, so two racing sign-ins cannot undo a dismissal. */
    async changeState(
      accountId: string,
      profileId: string,
      from: MembershipState[],
      to: MembershipState,
      trx: Database = db,
    ): Promise<boolean> {
      const changed = await trx('memberships')
        .where({ account_id: accountId, profile_id: profileId })
        .whereIn('state', from)
        .update({ state: to, updated_at: trx.fn.now() });
      return changed > 0;
    },

    /** Every membership of a profile with what the My Network page shows of its account. */
    async listForProfile(profileId: string, trx: Database = db): Promise<ProfileMembership[]> {
      return trx('memberships')
        .join('accounts', 'accounts.id', 'memberships.account_id')
        .leftJoin('clients', 'clients.account_id', 'memberships.account_id')
        .where('memberships.profile_id', profileId)
        .select(
          'memberships.*',
          'accounts.name as account_name',
          'accounts.renamed_at as account_renamed_at',
          trx.raw("clients.metadata->>'initiate_login_uri' as initiate_login_uri"),
        )
        .orderBy('accounts.name');
    },
  };
}

export type MembershipQueries = ReturnType<typeof createMembershipQueries>;
