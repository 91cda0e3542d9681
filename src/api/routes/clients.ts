import { z } from 'zod';
import { DEFAULT_SECRET_GRACE_SECONDS, MAX_SECRET_GRACE_SECONDS } from '../../clients/client-service.js';
import { decodeCursor, pageAnswer, pageQuery } from '../paging.js';
import { defineRoute, settled } from '../route.js';
import { ClientSchema, clientView, pageOf } from '../schemas.js';

/** Client ids are whatever a registration chose; NetID's own are UUIDs or `account-<uuid>`. */
export const clientId = z
  .string()
  .regex(/^[\x21-\x7E]{1,200}$/, 'is not a client id: 1 to 200 printable characters, no spaces')
  .meta({ description: "The client's client_id" });

const clientParams = z.object({ client: clientId });

const uris = z.array(z.string().max(2000)).max(20);
const grantTypes = z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials'])).min(1);

/** What an operator's registration takes, as `client register` does (RFC 7591 names where there is one). */
const registration = {
  name: z.string().min(1).max(200).meta({ description: 'client_name, shown on the consent page' }),
  redirect_uris: uris.optional().meta({ description: 'Where codes may be sent; needed with authorization_code' }),
  post_logout_redirect_uris: uris.optional(),
  grant_types: grantTypes.optional().meta({ description: 'authorization_code and refresh_token when left out' }),
  first_party: z.boolean().optional().meta({ description: 'An app the operator runs: no consent page' }),
  operator: z.boolean().optional().meta({ description: "An operator's service: with client_credentials it may call this API with the operator scope" }),
  backchannel_logout_uri: z.string().max(2000).optional(),
};

const CreatedClientSchema = z
  .object({
    client: ClientSchema,
    client_secret: z.string().nullable().meta({ description: 'Shown in this answer only; null for a public client' }),
  })
  .meta({ id: 'CreatedClient' });

const SecretRotationSchema = z
  .object({
    client_id: z.string(),
    client_secret: z.string().meta({ description: 'The new secret, shown in this answer only' }),
    previous_secret_expires_at: z
      .string()
      .meta({ format: 'date-time' })
      .nullable()
      .meta({ description: 'Until when the old secret keeps working; null when it stopped at once' }),
  })
  .meta({ id: 'SecretRotation' });

export const clientRoutes = [
  defineRoute({
    id: 'clients.list',
    method: 'get',
    path: '/clients',
    summary: 'List clients',
    description: "Every client, accounts' own included, a page at a time in client id order.",
    query: z
      .object({
        ...pageQuery,
        kind: z.enum(['account', 'operator', 'first_party', 'third_party']).optional().meta({ description: 'Only clients of this kind' }),
      })
      .strict(),
    responses: { 200: { description: 'A page of clients', schema: pageOf(ClientSchema, 'ClientPage') } },
    async handle({ ctx, context, query }) {
      const page = await context.services.clients.list({ kind: query.kind }, { limit: query.limit, after: decodeCursor(query.cursor) });
      return { status: 200, body: pageAnswer(ctx, context.config.issuer, page, clientView) };
    },
  }),

  defineRoute({
    id: 'clients.read',
    method: 'get',
    path: '/clients/{client}',
    summary: 'Read a client',
    params: clientParams,
    responses: { 200: { description: 'The client, without its secret', schema: ClientSchema } },
    problems: [404],
    async handle({ context, params }) {
      const { client } = settled(await context.services.clients.read(params.client));
      return { status: 200, body: clientView(client) };
    },
  }),

  defineRoute({
    id: 'clients.create',
    method: 'post',
    path: '/clients',
    summary: 'Register a client',
    description:
      'As `client register` on the command line. A confidential client gets a secret, in this answer only; a public one (an app that cannot keep a secret) uses PKCE instead.',
    body: z.object({ ...registration, public: z.boolean().optional().meta({ description: 'No secret; PKCE required' }) }).strict(),
    responses: { 201: { description: 'The client, and its secret', schema: CreatedClientSchema } },
    async handle({ context, body, actor }) {
      const registered = settled(
        await context.services.clients.register(
          {
            name: body.name,
            redirectUris: body.redirect_uris,
            postLogoutRedirectUris: body.post_logout_redirect_uris,
            grantTypes: body.grant_types,
            isPublic: body.public,
            firstParty: body.first_party,
            operator: body.operator,
            backchannelLogoutUri: body.backchannel_logout_uri,
          },
          actor,
        ),
      );
      const { client } = settled(await context.services.clients.read(registered.clientId));
      return { status: 201, body: { client: clientView(client), client_secret: registered.clientSecret ?? null } };
    },
  }),

  defineRoute({
    id: 'clients.update',
    method: 'patch',
    path: '/clients/{client}',
    summary: "Change an operator's client",
    description:
      "What is given replaces what the client had; the rest stays. An account's own client changes with its account and is refused here, as are NetID's own clients.",
    params: clientParams,
    body: z
      .object({
        ...registration,
        name: registration.name.optional(),
        backchannel_logout_uri: registration.backchannel_logout_uri.unwrap().nullable().optional().meta({ description: 'null removes it' }),
      })
      .strict(),
    responses: { 200: { description: 'The client', schema: ClientSchema } },
    problems: [404],
    async handle({ context, params, body, actor }) {
      const { client } = settled(
        await context.services.clients.update(
          params.client,
          {
            registration: {
              name: body.name,
              redirectUris: body.redirect_uris,
              postLogoutRedirectUris: body.post_logout_redirect_uris,
              grantTypes: body.grant_types,
              operator: body.operator,
              backchannelLogoutUri: body.backchannel_logout_uri,
            },
            firstParty: body.first_party,
          },
          actor,
        ),
      );
      return { status: 200, body: clientView(client) };
    },
  }),

  defineRoute({
    id: 'clients.delete',
    method: 'delete',
    path: '/clients/{client}',
    summary: "Delete an operator's client",
    description: "Every grant, code and token the client holds is revoked with it. An account's own client goes only with its account.",
    params: clientParams,
    responses: { 204: { description: 'Deleted' } },
    problems: [404],
    async handle({ context, params, actor }) {
      settled(await context.services.clients.delete(params.client, actor));
      return { status: 204 };
    },
  }),

  defineRoute({
    id: 'clients.rotate-secret',
    method: 'post',
    path: '/clients/{client}/secret',
    summary: "Rotate a client's secret",
    description:
      'A new secret, in this answer only. The old one keeps working for `grace_seconds`, so every instance of the client can move to the new one without a moment where none can authenticate; 0 ends it at once.',
    params: clientParams,
    body: z
      .object({
        grace_seconds: z
          .number()
          .int()
          .min(0)
          .max(MAX_SECRET_GRACE_SECONDS)
          .default(DEFAULT_SECRET_GRACE_SECONDS)
          .meta({ description: `How long the old secret keeps working; ${DEFAULT_SECRET_GRACE_SECONDS} (a day) when left out` }),
      })
      .strict(),
    responses: { 200: { description: 'The new secret', schema: SecretRotationSchema } },
    problems: [404],
    async handle({ context, params, body, actor }) {
      const rotated = settled(await context.services.clients.rotateSecret(params.client, body.grace_seconds, actor));
      return {
        status: 200,
        body: {
          client_id: params.client,
          client_secret: rotated.clientSecret,
          previous_secret_expires_at: rotated.previousSecretExpiresAt?.toISOString() ?? null,
        },
      };
    },
  }),
];
