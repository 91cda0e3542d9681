import { randomUUID } from 'node:crypto';
import type { Database } from './database.js';

/** A link from a profile to an upstream provider's subject (social login). */
export interface Identity {
  id: string;
  profile_id: string;
  /** The provider's id in NetID's configuration: `google`, `apple`, `office365`, a generic provider's name. */
  provider: string;
  /** Who vouched for the subject: the ID token's `iss`, or the provider's own address for plain OAuth 2.0. */
  issuer: string;
  subject: string;
  /** What the provider last said about the person. */
  email: string | null;
  email_verified: boolean;
  first_name: string | null;
  last_name: string | null;
  photo_url: string | null;
  created_at: Date;
  updated_at: Date;
  last_used_at: Date | null;
}

/** What a provider says about a person at a sign-in, as it is kept on the identity. */
export interface SeenData {
  email?: string | undefined;
  emailVerified: boolean;
  firstName?: string | undefined;
  lastName?: string | undefined;
  photoUrl?: string | undefined;
}

export interface IdentityKey {
  provider: string;
  issuer: string;
  subject: string;
}

const seenColumns = (seen: SeenData) => ({
  email: seen.email ?? null,
  email_verified: seen.emailVerified,
  first_name: seen.firstName ?? null,
  last_name: seen.lastName ?? null,
  photo_url: seen.photoUrl ?? null,
});

export function createIdentityQueries(db: Database) {
  return {
    async find(key: IdentityKey): Promise<Identity | undefined> {
      return db<Identity>('identities').where({ provider: key.provider, issuer: key.issuer, subject: key.subject }).first();
    },

    /** A profile's identities, in the order they were connected. */
    async listForProfile(profileId: string): Promise<Identity[]> {
      return db<Identity>('identities').where({ profile_id: profileId }).orderBy('created_at').orderBy('id');
    },

    /** The same, locked until the transaction ends, for a rule that counts them before a change. */
    async listForProfileForUpdate(profileId: string): Promise<Identity[]> {
      return db<Identity>('identities').where({ profile_id: profileId }).orderBy('created_at').orderBy('id').forUpdate();
    },

    async insert(profileId: string, key: IdentityKey, seen: SeenData): Promise<Identity> {
      const [row] = await db<Identity>('identities')
        .insert({ id: randomUUID(), profile_id: profileId, ...key, ...seenColumns(seen), last_used_at: db.fn.now() as unknown as Date })
        .returning('*');
      return row as Identity;
    },

    /** Keeps what the provider said this time, and that the identity was just used. */
    async recordUse(id: string, seen: SeenData): Promise<void> {
      await db('identities')
        .where({ id })
        .update({ ...seenColumns(seen), last_used_at: db.fn.now(), updated_at: db.fn.now() });
    },

    /** Deletes one of the profile's identities; true when there was one to delete. */
    async delete(profileId: string, id: string): Promise<boolean> {
      // returning(): under knex-pglite a bare delete() resolves to the driver's result, not a count.
      const deleted = await db('identities').where({ id, profile_id: profileId }).delete().returning('id');
      return deleted.length > 0;
    },
  };
}

export type IdentityQueries = ReturnType<typeof createIdentityQueries>;
