import { randomUUID } from 'node:crypto';
import type { Database } from './database.js';

export interface Profile {
  id: string;
  email: string | null;
  email_verified: boolean;
  phone: string | null;
  phone_verified: boolean;
  password_hash: string | null;
  first_name: string;
  last_name: string;
  photo: string | null;
  locale: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface NewProfile {
  email?: string | null;
  emailVerified?: boolean;
  phone?: string | null;
  phoneVerified?: boolean;
  passwordHash?: string | null;
  firstName?: string;
  lastName?: string;
  locale?: string | null;
}

export function createProfileQueries(db: Database) {
  return {
    async findById(id: string, trx: Database = db): Promise<Profile | undefined> {
      return trx<Profile>('profiles').where({ id }).first();
    },

    /** `identifier` is already normalised: a lower-cased email or an E.164 phone. */
    async findByIdentifier(identifier: string, trx: Database = db): Promise<Profile | undefined> {
      const column = identifier.startsWith('+') ? 'phone' : 'email';
      return trx<Profile>('profiles').where(column, identifier).first();
    },

    async insert(profile: NewProfile, trx: Database = db): Promise<Profile> {
      const [row] = await trx<Profile>('profiles')
        .insert({
          id: randomUUID(),
          email: profile.email ?? null,
          email_verified: profile.emailVerified ?? false,
          phone: profile.phone ?? null,
          phone_verified: profile.phoneVerified ?? false,
          password_hash: profile.passwordHash ?? null,
          first_name: profile.firstName ?? '',
          last_name: profile.lastName ?? '',
          locale: profile.locale ?? null,
        })
        .returning('*');
      return row as Profile;
    },

    async updatePasswordHash(id: string, passwordHash: string, trx: Database = db): Promise<void> {
      await trx('profiles').where({ id }).update({ password_hash: passwordHash, updated_at: trx.fn.now() });
    },

    async count(trx: Database = db): Promise<number> {
      const row = await trx('profiles').count<{ count: string | number }[]>({ count: '*' }).first();
      return Number(row?.count ?? 0);
    },
  };
}

export type ProfileQueries = ReturnType<typeof createProfileQueries>;
