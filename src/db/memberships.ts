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

    async insert(
      membership: { accountId: string; profileId: string; role: MembershipRole; state: MembershipState },
      trx: Database = db,
    ): Promise<Membership> {
      const [row] = await trx<Membership>('memberships')
        .insert({
          account_id: membership.accountId,
          profile_id: membership.profileId,
          role: membership.role,
          state: membership.state,
        })
        .returning('*');
      return row as Membership;
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

    async listForProfile(profileId: string, trx: Database = db): Promise<(Membership & { account_name: string })[]> {
      return trx('memberships')
        .join('accounts', 'accounts.id', 'memberships.account_id')
        .where('memberships.profile_id', profileId)
        .select('memberships.*', 'accounts.name as account_name')
        .orderBy('accounts.name');
    },
  };
}

export type MembershipQueries = ReturnType<typeof createMembershipQueries>;
