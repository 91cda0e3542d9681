import { randomUUID } from 'node:crypto';
import type { Database } from './database.js';
import type { MembershipRole } from './memberships.js';

/** An invitation to an email or phone that had no profile when it was sent. */
export interface Invitation {
  id: string;
  account_id: string;
  role: MembershipRole;
  address: string;
  token_hash: string;
  invited_by_profile: string | null;
  invited_by_client: string | null;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  accepted_by: string | null;
}

export function createInvitationQueries(db: Database) {
  return {
    async insert(invitation: {
      accountId: string;
      role: MembershipRole;
      address: string;
      tokenHash: string;
      invitedByProfile?: string | null | undefined;
      invitedByClient?: string | null | undefined;
      expiresAt: Date;
    }): Promise<Invitation> {
      const [row] = await db<Invitation>('invitations')
        .insert({
          id: randomUUID(),
          account_id: invitation.accountId,
          role: invitation.role,
          address: invitation.address,
          token_hash: invitation.tokenHash,
          invited_by_profile: invitation.invitedByProfile ?? null,
          invited_by_client: invitation.invitedByClient ?? null,
          expires_at: invitation.expiresAt,
        })
        .returning('*');
      return row as Invitation;
    },

    /** The invitation a link's secret names, while it is open (neither accepted nor expired). */
    async findOpenByTokenHash(tokenHash: string): Promise<Invitation | undefined> {
      return db<Invitation>('invitations').where({ token_hash: tokenHash }).whereNull('accepted_at').andWhere('expires_at', '>', db.fn.now()).first();
    },

    /** Every open invitation to an address, oldest first, locked until the transaction ends. */
    async openForAddressForUpdate(address: string): Promise<Invitation[]> {
      return db<Invitation>('invitations')
        .where({ address })
        .whereNull('accepted_at')
        .andWhere('expires_at', '>', db.fn.now())
        .orderBy('created_at')
        .forUpdate();
    },

    async markAccepted(id: string, profileId: string): Promise<void> {
      await db('invitations').where({ id }).update({ accepted_at: db.fn.now(), accepted_by: profileId });
    },
  };
}

export type InvitationQueries = ReturnType<typeof createInvitationQueries>;
