import { z } from 'zod';
import { SIGNING_ALGORITHMS } from '../../oidc/signing-keys.js';
import { defineRoute, settled } from '../route.js';
import { ResourceServerSchema, resourceServerView } from '../schemas.js';
import { clientId } from './clients.js';

const identifier = z.string().min(1).max(2000);

const serverParams = z.object({
  identifier: identifier.meta({ description: 'Its resource indicator, URL-encoded as one path segment (https%3A%2F%2Fapi.example.com%2F)' }),
});

/** The settings of a server, named as the answers name them. */
const settings = {
  name: z.string().max(200),
  scopes: z.array(z.string().max(200)).max(100).meta({ description: "The scopes it understands; never NetID's own (openid, profile, email…)" }),
  access_token_format: z.enum(['jwt', 'opaque']).meta({ description: 'jwt (checked against JWKS; the default) or opaque (introspected)' }),
  signing_alg: z.enum(SIGNING_ALGORITHMS).meta({ description: 'How its JWT access tokens are signed; RS256 by default' }),
  access_token_ttl: z.number().int().meta({ description: 'Seconds, 60 to 86400; 300 for jwt and an hour for opaque by default' }),
};

/** The rules name inputs as the command line does; these are the body's names for them. */
const BODY_FIELDS = { scope: 'scopes', format: 'access_token_format', alg: 'signing_alg', ttl: 'access_token_ttl', client: 'client_ids' };

export const resourceServerRoutes = [
  defineRoute({
    id: 'resource-servers.list',
    method: 'get',
    path: '/resource-servers',
    summary: 'List resource servers',
    description: "Every one, NetID's own management API included: there are few.",
    query: z.object({}).strict(),
    responses: {
      200: {
        description: 'Every resource server, by identifier',
        schema: z.object({ items: z.array(ResourceServerSchema) }).meta({ id: 'ResourceServerList' }),
      },
    },
    async handle({ context }) {
      return { status: 200, body: { items: (await context.services.resourceServers.list()).map(resourceServerView) } };
    },
  }),

  defineRoute({
    id: 'resource-servers.read',
    method: 'get',
    path: '/resource-servers/{identifier}',
    summary: 'Read a resource server',
    params: serverParams,
    responses: { 200: { description: 'The resource server', schema: ResourceServerSchema } },
    problems: [404],
    async handle({ context, params }) {
      const { server } = settled(await context.services.resourceServers.read(params.identifier));
      return { status: 200, body: resourceServerView(server) };
    },
  }),

  defineRoute({
    id: 'resource-servers.create',
    method: 'post',
    path: '/resource-servers',
    summary: 'Register a resource server',
    description:
      'As `resource-server register` on the command line. The identifier is an https URI (http only on localhost) without query or fragment, written as clients will send it. ' +
      'It takes effect on every instance within a second.',
    body: z
      .object({
        identifier: identifier.meta({ description: 'Its resource indicator (RFC 8707)' }),
        ...settings,
        access_token_format: settings.access_token_format.optional(),
        signing_alg: settings.signing_alg.optional(),
        access_token_ttl: settings.access_token_ttl.optional(),
        client_ids: z.array(clientId).max(100).optional().meta({ description: 'The clients that may ask for tokens to it' }),
      })
      .strict(),
    responses: { 201: { description: 'The resource server', schema: ResourceServerSchema } },
    async handle({ context, body, actor }) {
      const { server } = settled(
        await context.services.resourceServers.register(
          {
            identifier: body.identifier,
            name: body.name,
            scopes: body.scopes,
            clientIds: body.client_ids,
            format: body.access_token_format,
            alg: body.signing_alg,
            ttl: body.access_token_ttl,
          },
          actor,
        ),
        BODY_FIELDS,
      );
      return { status: 201, body: resourceServerView(server) };
    },
  }),

  defineRoute({
    id: 'resource-servers.update',
    method: 'patch',
    path: '/resource-servers/{identifier}',
    summary: 'Change a resource server',
    description: "What is given replaces what it had; a new format without a lifetime takes that format's default. NetID's own management API cannot be changed.",
    params: serverParams,
    body: z.object(settings).partial().strict(),
    responses: { 200: { description: 'The resource server', schema: ResourceServerSchema } },
    problems: [404],
    async handle({ context, params, body, actor }) {
      const { server } = settled(
        await context.services.resourceServers.update(
          params.identifier,
          { name: body.name, scopes: body.scopes, format: body.access_token_format, alg: body.signing_alg, ttl: body.access_token_ttl },
          actor,
        ),
        BODY_FIELDS,
      );
      return { status: 200, body: resourceServerView(server) };
    },
  }),

  defineRoute({
    id: 'resource-servers.delete',
    method: 'delete',
    path: '/resource-servers/{identifier}',
    summary: 'Remove a resource server',
    description: "Clients can no longer ask for tokens to it; JWT access tokens already issued run out on their own. NetID's own management API cannot be removed.",
    params: serverParams,
    responses: { 204: { description: 'Removed' } },
    problems: [404],
    async handle({ context, params, actor }) {
      settled(await context.services.resourceServers.remove(params.identifier, actor));
      return { status: 204 };
    },
  }),

  defineRoute({
    id: 'resource-servers.allow',
    method: 'post',
    path: '/resource-servers/{identifier}/clients',
    summary: 'Let clients ask for tokens to a resource server',
    params: serverParams,
    body: z.object({ client_ids: z.array(clientId).max(100) }).strict(),
    responses: { 200: { description: 'The resource server, with the clients it now allows', schema: ResourceServerSchema } },
    problems: [404],
    async handle({ context, params, body, actor }) {
      const { server } = settled(await context.services.resourceServers.allow(params.identifier, body.client_ids, actor), BODY_FIELDS);
      return { status: 200, body: resourceServerView(server) };
    },
  }),

  defineRoute({
    id: 'resource-servers.disallow',
    method: 'delete',
    path: '/resource-servers/{identifier}/clients/{client}',
    summary: 'Stop a client from asking for tokens to a resource server',
    description: 'Tokens already issued to it run out on their own. A client that was not allowed stays so.',
    params: serverParams.extend({ client: clientId }),
    responses: { 200: { description: 'The resource server, with the clients it still allows', schema: ResourceServerSchema } },
    problems: [404],
    async handle({ context, params, actor }) {
      const { server } = settled(await context.services.resourceServers.disallow(params.identifier, [params.client], actor));
      return { status: 200, body: resourceServerView(server) };
    },
  }),
];
