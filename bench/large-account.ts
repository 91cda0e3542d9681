import knex from 'knex';

/**
 * Fills an account with `count` active members in a few statements. Each
 * member is a profile without a password: creating them one by one through
 * `profile create` would hash a password per profile and take minutes, and
 * the members list reads memberships, not passwords. The membership keeps
 * its own copy of names and contact email, as an account's members have.
 */
export async function fillAccount(databaseUrl: string, accountName: string, count: number): Promise<void> {
  const db = knex({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } });
  try {
    await db.transaction(async (trx) => {
      const account = await trx('accounts').where({ name: accountName }).first('id');
      if (!account) throw new Error(`no account named ${accountName}`);
      await trx.raw(
        `with people as (
           insert into profiles (id, email, email_verified, first_name, last_name)
           select gen_random_uuid(), 'member' || n || '@large.bench.test', true, 'Member', 'Number ' || n
           from generate_series(1, ?::int) as n
           returning id, email, first_name, last_name
         )
         insert into memberships (account_id, profile_id, role, state, first_name, last_name, contact_email)
         select ?::uuid, id, 'user', 'active', first_name, last_name, email from people`,
        [count, account.id],
      );
    });
    await db.raw('analyze profiles, memberships');
  } finally {
    await db.destroy();
  }
}
