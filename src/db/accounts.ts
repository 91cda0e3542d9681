import type { Database } from './database.js';
import type { Page } from './profiles.js';

export interface Account {
  id: string;
  name: string;
  renamed_at: Date | null;
  /** Everyone signing in to the account proves two factors. */
  require_second_factor: boolean;
  created_at: Date;
}

export function createAccountQueries(db: Database) {
  return {
    async findById(id: string): Promise<Account | undefined> {
      return db<Account>('accounts').where({ id }).first();
    },

    /** Read and locked until the transaction ends: two admins renaming at once cannot both use the one rename. */
    async findByIdForUpdate(id: string): Promise<Account | undefined> {
      return db<Account>('accounts').where({ id }).forUpdate().first();
    },

    async findByName(name: string): Promise<Account | undefined> {
      return db<Account>('accounts').where({ name }).first();
    },

    async insert(account: { id: string; name: string }): Promise<Account> {
      const [row] = await db<Account>('accounts').insert(account).returning('*');
      return row as Account;
    },

    /** Every account by name, locked until the transaction ends (a change to all of them). */
    async listAll(): Promise<Account[]> {
      return db<Account>('accounts').orderBy('name').forUpdate();
    },

    async setRequireSecondFactor(id: string, required: boolean): Promise<void> {
      await db('accounts').where({ id }).update({ require_second_factor: required });
    },

    async rename(id: string, name: string): Promise<void> {
      await db('accounts').where({ id }).update({ name, renamed_at: db.fn.now() });
    },

    /** Every account, a page at a time in id order, which new accounts and renames cannot disturb. */
    async list(filter: { name?: string | undefined }, page: { limit: number; after?: string | undefined }): Promise<Page<Account>> {
      const query = db<Account>('accounts').orderBy('id').limit(page.limit + 1);
      if (page.after) query.where('id', '>', page.after);
      if (filter.name) query.whereRaw('name like ?', [`%${filter.name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`]);
      const rows = await query;
      const items = rows.slice(0, page.limit);
      return { items, next: rows.length > page.limit ? items.at(-1)!.id : undefined };
    },
  };
}

export type AccountQueries = ReturnType<typeof createAccountQueries>;
