import { z } from 'zod';
import { decodeCursor, pageAnswer, pageQuery, UUID_KEY } from '../paging.js';
import { defineRoute, settled } from '../route.js';
import { AccountSchema, accountView, pageOf } from '../schemas.js';

/** `{account}` in a path: the account's id, or its name. */
export const accountParams = z.object({
  account: z.string().min(1).max(100).meta({ description: "The account's id, or its name" }),
});

const changeBody = z
  .object({
    name: z.string().max(200).optional().meta({ description: 'The new name: the one rename the account has' }),
    require_second_factor: z.boolean().optional().meta({ description: 'Require two factors of everyone signing in to the account' }),
  })
  .strict()
  .refine((body) => body.name !== undefined || body.require_second_factor !== undefined, { message: 'name or require_second_factor is required' });

export const accountRoutes = [
  defineRoute({
    id: 'accounts.read',
    method: 'get',
    path: '/accounts/{account}',
    summary: 'Read an account',
    params: accountParams,
    responses: { 200: { description: 'The account', schema: AccountSchema } },
    problems: [404],
    async handle({ context, accountId }) {
      const { account } = settled(await context.services.accounts.read(accountId));
      const client = await context.queries.clients.findByAccount(account.id);
      return { status: 200, body: accountView(account, client?.client_id ?? null) };
    },
  }),

  defineRoute({
    id: 'accounts.rename',
    method: 'patch',
    path: '/accounts/{account}',
    summary: 'Rename an account (once), or require two factors of everyone signing in to it',
    description:
      "An account may be renamed once; its client's redirect URIs and initiate_login_uri move with it. " +
      'With require_second_factor, signing in to its client asks everyone for a second factor (an authenticator app, a passkey or a recovery code); ' +
      'a person without one is told how to set one up, and the account receives unmet_authentication_requirements.',
    params: accountParams,
    body: changeBody,
    responses: { 200: { description: 'The account as it is now', schema: AccountSchema } },
    problems: [404, 409],
    async handle({ context, accountId, body, actor }) {
      if (body.name !== undefined) settled(await context.services.accounts.rename(accountId, body.name, actor));
      if (body.require_second_factor !== undefined) settled(await context.services.accounts.setRequireSecondFactor(accountId, body.require_second_factor, actor));
      const { account } = settled(await context.services.accounts.read(accountId));
      const client = await context.queries.clients.findByAccount(account.id);
      return { status: 200, body: accountView(account, client?.client_id ?? null) };
    },
  }),

  defineRoute({
    id: 'accounts.list',
    method: 'get',
    path: '/accounts',
    summary: 'List accounts',
    query: z.object({ ...pageQuery, name: z.string().max(100).optional().meta({ description: 'Only accounts whose name contains this' }) }).strict(),
    responses: { 200: { description: 'A page of accounts', schema: pageOf(AccountSchema, 'AccountPage') } },
    async handle({ ctx, context, query }) {
      const page = await context.services.accounts.list({ name: query.name }, { limit: query.limit, after: decodeCursor(query.cursor, UUID_KEY) });
      // An account's client is named after it when the account is made (src/accounts/account-service.ts).
      return { status: 200, body: pageAnswer(ctx, context.config.issuer, page, (account) => accountView(account, `account-${account.id}`)) };
    },
  }),

  defineRoute({
    id: 'accounts.create',
    method: 'post',
    path: '/accounts',
    summary: 'Create an account with its first admin',
    description: "The account gets a random name and its own confidential client; the client's secret is in this answer only.",
    body: z.object({ admin_profile_id: z.string().uuid().meta({ description: 'The profile that becomes its active admin' }) }).strict(),
    responses: {
      201: {
        description: 'The account, and its client with its secret',
        schema: z
          .object({ account: AccountSchema, client_id: z.string(), client_secret: z.string().meta({ description: 'Shown once' }) })
          .meta({ id: 'CreatedAccount' }),
      },
    },
    problems: [404],
    async handle({ context, body, actor }) {
      const created = settled(await context.services.accounts.create(body.admin_profile_id, actor));
      return {
        status: 201,
        body: { account: accountView(created.account, created.clientId), client_id: created.clientId, client_secret: created.clientSecret },
      };
    },
  }),
];
