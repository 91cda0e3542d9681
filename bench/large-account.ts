import knex, { type Knex } from 'knex';

/**
 * Runs `change` in one transaction on the benchmark's database, with the id
 * of the account named `accountName`. For rows made in bulk, which the
 * operator commands would make one at a time.
 */
async function changeAccount(databaseUrl: string, accountName: string, change: (trx: Knex.Transaction, accountId: string) => Promise<unknown>): Promise<void> {
  const db = knex({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } });
  try {
    await db.transaction(async (trx) => {
      const account = await trx('accounts').where({ name: accountName }).first('id');
      if (!account) throw new Error(`no account named ${accountName}`);
      await change(trx, account.id as string);
    });
    await db.raw('analyze profiles, memberships');
  } finally {
    await db.destroy();
  }
}

/**
 * Fills an account with `count` active members in one statement. Each
 * member is a profile without a password: creating them one by one through
 * `profile create` would hash a password per profile and take minutes, and
 * the members list reads memberships, not passwords. The membership keeps
 * its own copy of names and contact email, as an account's members have.
 */
export function fillAccount(databaseUrl: string, accountName: string, count: number): Promise<void> {
  return changeAccount(databaseUrl, accountName, (trx, accountId) =>
    trx.raw(
      `with people as (
         insert into profiles (id, email, email_verified, first_name, last_name)
         select gen_random_uuid(), 'member' || n || '@large.bench.test', true, 'Member', 'Number ' || n
         from generate_series(1, ?::int) as n
         returning id, email, first_name, last_name
       )
       insert into memberships (account_id, profile_id, role, state, first_name, last_name, contact_email)
       select ?::uuid, id, 'user', 'active', first_name, last_name, email from people`,
      [count, accountId],
    ),
  );
}

/**
 * Members of `accountName` at `emails` who sign in with `passwordHash`'s
 * password, their emails confirmed, as `profile create` and `account
 * add-member` would leave them; one hash for all, since hashing a password
 * per profile would take minutes. For totp_signin, which needs many profiles
 * so that none signs in twice within one 30-second step.
 */
export function addSignInMembers(databaseUrl: string, accountName: string, emails: string[], passwordHash: string): Promise<void> {
  return changeAccount(databaseUrl, accountName, (trx, accountId) =>
    trx.raw(
      `with people as (
         insert into profiles (id, email, email_verified, password_hash, first_name, last_name)
         select gen_random_uuid(), email, true, ?, 'Second', 'Step' from unnest(?::text[]) as email
         returning id
       )
       insert into memberships (account_id, profile_id, role, state)
       select ?::uuid, id, 'user', 'active' from people`,
      [passwordHash, emails, accountId],
    ),
  );
}
