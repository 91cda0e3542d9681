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
  /** Set by an operator: no sign-in while it is. */
  blocked_at: Date | null;
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

/** The profile's ways to be reached, each confirmed by a code before it counts. */
export type ContactColumn = 'email' | 'phone';

/** A page of a list, in a stable order; `after` is the last row's position in that order. */
export interface Page<T> {
  items: T[];
  /** Where the next page starts, when there is one. */
  next: string | undefined;
}

export function createProfileQueries(db: Database) {
  return {
    async findById(id: string): Promise<Profile | undefined> {
      return db<Profile>('profiles').where({ id }).first();
    },

    /** Read and locked until the transaction ends, so a rule checked on it holds while it changes. */
    async findByIdForUpdate(id: string): Promise<Profile | undefined> {
      return db<Profile>('profiles').where({ id }).forUpdate().first();
    },

    /** `identifier` is already normalised: a lower-cased email or an E.164 phone. */
    async findByIdentifier(identifier: string): Promise<Profile | undefined> {
      const column: ContactColumn = identifier.startsWith('+') ? 'phone' : 'email';
      return db<Profile>('profiles').where(column, identifier).first();
    },

    async insert(profile: NewProfile): Promise<Profile> {
      const [row] = await db<Profile>('profiles')
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

    async setPasswordHash(id: string, passwordHash: string): Promise<void> {
      await db('profiles').where({ id }).update({ password_hash: passwordHash, updated_at: db.fn.now() });
    },

    async setNames(id: string, names: { firstName: string; lastName: string }): Promise<void> {
      await db('profiles').where({ id }).update({ first_name: names.firstName, last_name: names.lastName, updated_at: db.fn.now() });
    },

    async setPhoto(id: string, photo: string): Promise<void> {
      await db('profiles').where({ id }).update({ photo, updated_at: db.fn.now() });
    },

    /** Makes `value` the profile's confirmed email or phone. */
    async setConfirmedContact(id: string, column: ContactColumn, value: string): Promise<void> {
      await db('profiles')
        .where({ id })
        .update({ [column]: value, [`${column}_verified`]: true, updated_at: db.fn.now() });
    },

    /** Marks the email or phone confirmed, only while it is still `value`; true when it was. */
    async confirmContact(id: string, column: ContactColumn, value: string): Promise<boolean> {
      const changed = await db('profiles')
        .where({ id, [column]: value })
        .update({ [`${column}_verified`]: true, updated_at: db.fn.now() });
      return Number(changed) > 0;
    },

    /** The profile that holds this email or phone, if any. */
    async ownerOf(column: ContactColumn, value: string): Promise<string | undefined> {
      const row = await db('profiles').where(column, value).first<{ id: string } | undefined>('id');
      return row?.id;
    },

    async setBlocked(id: string, blocked: boolean): Promise<void> {
      await db('profiles')
        .where({ id })
        .update({ blocked_at: blocked ? db.fn.now() : null, updated_at: db.fn.now() });
    },

    async delete(id: string): Promise<void> {
      await db('profiles').where({ id }).delete();
    },

    async count(): Promise<number> {
      const row = await db('profiles').count<{ count: string | number }[]>({ count: '*' }).first();
      return Number(row?.count ?? 0);
    },

    /**
     * Profiles whose email, phone or name contains `text` (case-insensitive),
     * a page at a time in id order, which new profiles cannot disturb.
     * `phone` is the text as a phone number's characters, when it reads as (part of) one.
     */
    async search(
      filter: { text?: string | undefined; phone?: string | undefined },
      page: { limit: number; after?: string | undefined },
    ): Promise<Page<Profile>> {
      const query = db<Profile>('profiles').orderBy('id').limit(page.limit + 1);
      if (page.after) query.where('id', '>', page.after);
      if (filter.text) {
        const like = (text: string) => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        const pattern = like(filter.text);
        query.where((q) =>
          q
            .whereRaw('lower(email) like ?', [pattern])
            .orWhereRaw('phone like ?', [filter.phone ? like(filter.phone) : pattern])
            .orWhereRaw("lower(first_name || ' ' || last_name) like ?", [pattern]),
        );
      }
      const rows = await query;
      const items = rows.slice(0, page.limit);
      return { items, next: rows.length > page.limit ? items.at(-1)!.id : undefined };
    },
  };
}

export type ProfileQueries = ReturnType<typeof createProfileQueries>;
