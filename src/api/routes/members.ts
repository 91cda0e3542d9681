import { z } from 'zod';
import { chooseLocale } from '../../i18n/messages.js';
import { localeOf } from '../../views/render.js';
import { ApiProblem } from '../problems.js';
import { decodeCursor, pageAnswer, pageQuery, UUID_KEY } from '../paging.js';
import { defineRoute, settled } from '../route.js';
import { MemberSchema, memberView, pageOf } from '../schemas.js';
import { accountParams } from './accounts.js';

const memberParams = accountParams.extend({ profile: z.string().uuid().meta({ description: "The member's profile id" }) });
const role = z.enum(['admin', 'user']);

export const memberRoutes = [
  defineRoute({
    id: 'members.list',
    method: 'get',
    path: '/accounts/{account}/members',
    summary: "List an account's members",
    description: 'In a stable order, a page at a time: members who join meanwhile neither repeat nor push others out of the next page.',
    params: accountParams,
    query: z
      .object({
        ...pageQuery,
        state: z.enum(['invited', 'active', 'dismissed']).optional(),
        role: role.optional(),
      })
      .strict(),
    responses: { 200: { description: 'A page of members', schema: pageOf(MemberSchema, 'MemberPage') } },
    async handle({ ctx, context, accountId, query }) {
      const page = await context.services.memberships.listMembers(accountId, { state: query.state, role: query.role }, { limit: query.limit, after: decodeCursor(query.cursor, UUID_KEY) });
      return { status: 200, body: pageAnswer(ctx, context.config.issuer, page, memberView(context.config.issuer)) };
    },
  }),

  defineRoute({
    id: 'members.read',
    method: 'get',
    path: '/accounts/{account}/members/{profile}',
    summary: 'Read a member',
    params: memberParams,
    responses: { 200: { description: 'The member', schema: MemberSchema } },
    problems: [404],
    async handle({ context, accountId, params }) {
      const membership = await context.services.memberships.find(accountId, params.profile);
      if (!membership) throw new ApiProblem('member-not-found');
      return { status: 200, body: memberView(context.config.issuer)(membership) };
    },
  }),

  defineRoute({
    id: 'members.invite',
    method: 'post',
    path: '/accounts/{account}/invitations',
    summary: 'Invite a person by email or phone',
    description:
      'A profile that has the address (an email, or a confirmed phone) is invited at once and told: it sees the account on My Network and enters it in one click. ' +
      'Where nobody has it, a sign-up link goes there; whoever signs up with it and confirms the address becomes an active member. A dismissed member comes back invited.',
    params: accountParams,
    body: z
      .object({
        address: z.string().max(320).meta({ description: 'An email address, or a phone number with its country code' }),
        role: role.default('user'),
        locale: z.enum(['en', 'ru']).optional().meta({ description: 'The language of the message, when no profile has the address' }),
      })
      .strict(),
    responses: {
      201: {
        description: 'The membership of the profile that has the address',
        schema: z.object({ sent: z.literal('membership'), member: MemberSchema }).meta({ id: 'MembershipInvitation' }),
      },
      202: {
        description: 'Nobody has the address: a sign-up link was sent there',
        schema: z
          .object({ sent: z.literal('sign-up-link'), address: z.string(), expires_at: z.string().meta({ format: 'date-time' }) })
          .meta({ id: 'SignUpInvitation' }),
      },
    },
    problems: [404, 409],
    async handle({ ctx, context, accountId, body, actor }) {
      const locale = body.locale ?? chooseLocale(undefined, () => localeOf(ctx));
      const invited = settled(await context.services.memberships.invite(accountId, { address: body.address, role: body.role, locale }, actor));
      if (invited.sent === 'membership') {
        return { status: 201, body: { sent: 'membership', member: memberView(context.config.issuer)(invited.membership) } };
      }
      return { status: 202, body: { sent: 'sign-up-link', address: invited.address, expires_at: invited.expiresAt.toISOString() } };
    },
  }),

  defineRoute({
    id: 'members.change-role',
    method: 'patch',
    path: '/accounts/{account}/members/{profile}',
    summary: "Change a member's role",
    description: 'The last active admin cannot be demoted.',
    params: memberParams,
    body: z.object({ role }).strict(),
    responses: { 200: { description: 'The member', schema: MemberSchema } },
    problems: [404, 409],
    async handle({ context, accountId, params, body, actor }) {
      const changed = settled(await context.services.memberships.changeRole(accountId, params.profile, body.role, actor));
      return { status: 200, body: memberView(context.config.issuer)(changed.membership) };
    },
  }),

  defineRoute({
    id: 'members.dismiss',
    method: 'post',
    path: '/accounts/{account}/members/{profile}/dismissal',
    summary: 'Dismiss a member',
    description:
      "The member's grants and tokens for this account are revoked at once, and the account's back-channel logout receiver is told; the last active admin cannot be dismissed.",
    params: memberParams,
    responses: { 200: { description: 'The dismissed member', schema: MemberSchema } },
    problems: [404, 409],
    async handle({ context, accountId, params, actor }) {
      settled(await context.services.memberships.dismiss(accountId, params.profile, actor));
      const membership = (await context.services.memberships.find(accountId, params.profile))!;
      return { status: 200, body: memberView(context.config.issuer)(membership) };
    },
  }),

  defineRoute({
    id: 'members.restore',
    method: 'post',
    path: '/accounts/{account}/members/{profile}/restoration',
    summary: 'Restore a dismissed member',
    params: memberParams,
    responses: { 200: { description: 'The member, active again', schema: MemberSchema } },
    problems: [404, 409],
    async handle({ context, accountId, params, actor }) {
      const restored = settled(await context.services.memberships.restore(accountId, params.profile, actor));
      return { status: 200, body: memberView(context.config.issuer)(restored.membership) };
    },
  }),
];
