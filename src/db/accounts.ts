import type { Database } from './database.js';

export interface Account {
  id: string;
  name: string;
  renamed_at: Date | null;
  created_at: Date;
}

export function createAccountQueries(db: Database) {
  return {
    async findById(id: string, trx: Database = db): Promise<Account | undefined> {
      return trx<Account>('accounts').where({ id }).first();
    },
    async findByName(name: string, trx: Database = db): Promise<Account | undefined> {
      return trx<Account>('accounts').where({ name }).first();
    },
    async insert(account: { id: string; name: string }, trx: Database = db): Promise<Account> {
      const [row] = await trx<Account>('accounts').insert(account).returning('*');
      return row as Account;
    },
  };
}

export type AccountQueries = ReturnType<typeof createAccountQueries>;
