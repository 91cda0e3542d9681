import { z } from 'zod';
import { decodeCursor, pageAnswer, pageQuery, UUID_KEY } from '../paging.js';
import { defineRoute, settled } from '../route.js';
import { pageOf, ProfileSchema, profileView } from '../schemas.js';

const profileParams = z.object({ profile: z.string().uuid().meta({ description: "The profile's id" }) });

export const profileRoutes = [
  defineRoute({
    id: 'profiles.search',
    method: 'get',
    path: '/profiles',
    summary: 'Find profiles',
    description: 'Every profile, or those whose email, phone or name contains `q` (case aside), a page at a time in a stable order.',
    query: z
      .object({
        ...pageQuery,
        q: z.string().min(1).max(200).optional().meta({ description: 'Part of an email, a phone number (E.164, as +79…), or a name' }),
      })
      .strict(),
    responses: { 200: { description: 'A page of profiles', schema: pageOf(ProfileSchema, 'ProfilePage') } },
    async handle({ ctx, context, query }) {
      const page = await context.services.profiles.search({ text: query.q }, { limit: query.limit, after: decodeCursor(query.cursor, UUID_KEY) });
      return { status: 200, body: pageAnswer(ctx, context.config.issuer, page, profileView) };
    },
  }),

  defineRoute({
    id: 'profiles.read',
    method: 'get',
    path: '/profiles/{profile}',
    summary: 'Read a profile',
    params: profileParams,
    responses: { 200: { description: 'The profile', schema: ProfileSchema } },
    problems: [404],
    async handle({ context, params }) {
      const { profile } = settled(await context.services.profiles.read(params.profile));
      return { status: 200, body: profileView(profile) };
    },
  }),

  defineRoute({
    id: 'profiles.block',
    method: 'post',
    path: '/profiles/{profile}/block',
    summary: 'Block a profile',
    description:
      'It can no longer sign in, in any way. Every session, grant and token it has ends at once, and each account those sessions signed in to receives a back-channel logout. Blocking a blocked profile changes nothing.',
    params: profileParams,
    responses: { 200: { description: 'The profile, blocked', schema: ProfileSchema } },
    problems: [404],
    async handle({ context, params, actor }) {
      const { profile } = settled(await context.services.profiles.setBlocked(params.profile, true, actor));
      return { status: 200, body: profileView(profile) };
    },
  }),

  defineRoute({
    id: 'profiles.unblock',
    method: 'post',
    path: '/profiles/{profile}/unblock',
    summary: 'Unblock a profile',
    description: 'It may sign in again; what blocking ended stays ended.',
    params: profileParams,
    responses: { 200: { description: 'The profile, no longer blocked', schema: ProfileSchema } },
    problems: [404],
    async handle({ context, params, actor }) {
      const { profile } = settled(await context.services.profiles.setBlocked(params.profile, false, actor));
      return { status: 200, body: profileView(profile) };
    },
  }),
];
