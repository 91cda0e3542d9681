import type { Database } from './database.js';
import type { Page } from './profiles.js';

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

/** The membership's copy of the person's data that an account reads first. */
export type MembershipCopy = Partial<Pick<Membership, 'first_name' | 'last_name' | 'photo' | 'mobile_phone' | 'contact_email'>>;

export function createMembershipQueries(db: Database) {
  return {
    async find(accountId: string, profileId: string): Promise<(Membership & { account_name: string }) | undefined> {
      return db('memberships')
        .join('accounts', 'accounts.id', 'memberships.account_id')
        .where({ 'memberships.account_id': accountId, 'memberships.profile_id': profileId })
        .first('memberships.*', 'accounts.name as account_name');
    },

    /**
     * Starts the membership's copy of the person's data from the profile as it
     * is now; later profile edits reach the account only when the person asks.
     */
    async insert(membership: { accountId: string; profileId: string; role: MembershipRole; state: MembershipState }): Promise<Membership> {
      const profile = await db('profiles')
        .where({ id: membership.profileId })
        .first<{ first_name: string; last_name: string; photo: string | null; email: string | null; phone: string | null; phone_verified: boolean } | undefined>(
          'first_name',
          'last_name',
          'photo',
          'email',
          'phone',
          'phone_verified',
        );
      const [row] = await db<Membership>('memberships')
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

    /** Copies fields into every membership the profile has in an invited or active state; answers how many. */
    async updateConnected(profileId: string, copy: MembershipCopy): Promise<number> {
      const changed = await db('memberships')
        .where('profile_id', profileId)
        .whereIn('state', ['invited', 'active'])
        .update({ ...copy, updated_at: db.fn.now() });
      return Number(changed);
    },

    /** Moves only from `from`, so two racing changes cannot undo each other (a sign-in cannot undo a dismissal). */
    async changeState(accountId: string, profileId: string, from: MembershipState[], to: MembershipState, role?: MembershipRole): Promise<boolean> {
      const changed = await db('memberships')
        .where({ account_id: accountId, profile_id: profileId })
        .whereIn('state', from)
        .update({ state: to, ...(role ? { role } : {}), updated_at: db.fn.now() });
      return Number(changed) > 0;
    },

    async setRole(accountId: string, profileId: string, role: MembershipRole): Promise<void> {
      await db('memberships').where({ account_id: accountId, profile_id: profileId }).update({ role, updated_at: db.fn.now() });
    },

    /**
     * The account's active admins, locked until the transaction ends: a rule
     * about the last admin must hold while two admins are demoted at once.
     */
    async activeAdminsForUpdate(accountId: string): Promise<string[]> {
      const rows = await db('memberships')
        .where({ account_id: accountId, role: 'admin', state: 'active' })
        .forUpdate()
        .select<{ profile_id: string }[]>('profile_id');
      return rows.map((row) => row.profile_id);
    },

    /** Every membership of a profile with what the My Network page shows of its account. */
    async listForProfile(profileId: string): Promise<ProfileMembership[]> {
      return db('memberships')
        .join('accounts', 'accounts.id', 'memberships.account_id')
        .leftJoin('clients', 'clients.account_id', 'memberships.account_id')
        .where('memberships.profile_id', profileId)
        .select(
          'memberships.*',
          'accounts.name as account_name',
          'accounts.renamed_at as account_renamed_at',
          db.raw("clients.metadata->>'initiate_login_uri' as initiate_login_uri"),
        )
        .orderBy('accounts.name');
    },

    /**
     * An account's members, a page at a time in profile id order, which
     * members joining meanwhile cannot disturb (keyset paging).
     */
    async listMembers(
      accountId: string,
      filter: { state?: MembershipState | undefined; role?: MembershipRole | undefined },
      page: { limit: number; after?: string | undefined },
    ): Promise<Page<Membership>> {
      const query = db<Membership>('memberships').where({ account_id: accountId }).orderBy('profile_id').limit(page.limit + 1);
      if (filter.state) query.where('state', filter.state);
      if (filter.role) query.where('role', filter.role);
      if (page.after) query.where('profile_id', '>', page.after);
      const rows = await query;
      const items = rows.slice(0, page.limit);
      return { items, next: rows.length > page.limit ? items.at(-1)!.profile_id : undefined };
    },
  };
}

export type MembershipQueries = ReturnType<typeof createMembershipQueries>;
