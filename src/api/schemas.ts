import { z } from 'zod';
import type { Account } from '../db/accounts.js';
import type { StoredAuditEvent } from '../db/audit.js';
import type { Membership } from '../db/memberships.js';
import type { Profile } from '../db/profiles.js';
import type { ResourceServer } from '../db/resource-servers.js';
import type { ClientView } from '../clients/client-service.js';
import type { SigningKeySummary } from '../oidc/signing-keys.js';
import { clientKindOf } from '../oidc/client-kind.js';

/*
 * What the API answers with, as zod schemas: the OpenAPI document is made
 * from them (src/api/openapi.ts), and the views below are what handlers send.
 */

const timestamp = z.string().meta({ format: 'date-time' });
const iso = (date: Date | string | null | undefined) => (date ? (date instanceof Date ? date : new Date(date)).toISOString() : null);

export const ProblemSchema = z
  .object({
    type: z.string().meta({ format: 'uri', description: 'Where the problem is described; its fragment is the problem\'s name' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ pointer: z.string(), detail: z.string() })).optional().meta({ description: 'What was wrong with which input' }),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem document' });

export const AccountSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string().meta({ description: "The account's address label" }),
    renamed_at: timestamp.nullable().meta({ description: 'When its one rename was used, if it was' }),
    created_at: timestamp,
    client_id: z.string().nullable().meta({ description: "The account's own OIDC client" }),
    require_second_factor: z.boolean().meta({
      description: 'Everyone signing in to the account proves two factors; without one, the account receives unmet_authentication_requirements',
    }),
  })
  .meta({ id: 'Account' });

export const accountView = (account: Account, clientId: string | null) => ({
  id: account.id,
  name: account.name,
  renamed_at: iso(account.renamed_at),
  created_at: iso(account.created_at)!,
  client_id: clientId,
  require_second_factor: account.require_second_factor,
});

export const MemberSchema = z
  .object({
    profile_id: z.string().uuid(),
    account_id: z.string().uuid(),
    role: z.enum(['admin', 'user']),
    state: z.enum(['invited', 'active', 'dismissed']),
    first_name: z.string().nullable().meta({ description: "The membership's copy of the person's first name" }),
    last_name: z.string().nullable(),
    photo_url: z.string().nullable(),
    mobile_phone: z.string().nullable().meta({ description: 'Mobile phone, E.164' }),
    contact_email: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Member', description: "A profile's place in an account, with the account's copy of the person's data" });

export const memberView = (issuer: string) => (membership: Membership) => ({
  profile_id: membership.profile_id,
  account_id: membership.account_id,
  role: membership.role,
  state: membership.state,
  first_name: membership.first_name,
  last_name: membership.last_name,
  photo_url: membership.photo ? `${issuer}/photos/${membership.photo}` : null,
  mobile_phone: membership.mobile_phone,
  contact_email: membership.contact_email,
  created_at: iso(membership.created_at)!,
  updated_at: iso(membership.updated_at)!,
});

export const ClientSchema = z
  .object({
    client_id: z.string(),
    kind: z.enum(['account', 'operator', 'first_party', 'third_party']),
    account_id: z.string().uuid().nullable(),
    client_name: z.string().nullable(),
    redirect_uris: z.array(z.string()),
    post_logout_redirect_uris: z.array(z.string()),
    grant_types: z.array(z.string()),
    token_endpoint_auth_method: z.string(),
    backchannel_logout_uri: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Client', description: 'A relying party NetID issues tokens to; its secret is never shown again after creation or rotation' });

const strings = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);

export const clientView = (client: ClientView) => ({
  client_id: client.clientId,
  kind: clientKindOf({ accountId: client.accountId, firstParty: client.firstParty, operator: client.metadata.netid_operator === true }),
  account_id: client.accountId,
  client_name: typeof client.metadata.client_name === 'string' ? client.metadata.client_name : null,
  redirect_uris: strings(client.metadata.redirect_uris),
  post_logout_redirect_uris: strings(client.metadata.post_logout_redirect_uris),
  grant_types: strings(client.metadata.grant_types),
  token_endpoint_auth_method: String(client.metadata.token_endpoint_auth_method ?? 'client_secret_basic'),
  backchannel_logout_uri: typeof client.metadata.backchannel_logout_uri === 'string' ? client.metadata.backchannel_logout_uri : null,
  created_at: iso(client.createdAt)!,
  updated_at: iso(client.updatedAt)!,
});

export const ResourceServerSchema = z
  .object({
    identifier: z.string().meta({ description: 'Its resource indicator (RFC 8707), an https URI' }),
    name: z.string(),
    scopes: z.array(z.string()),
    access_token_format: z.enum(['jwt', 'opaque']),
    signing_alg: z.enum(['RS256', 'ES256', 'EdDSA']),
    access_token_ttl: z.number().int(),
    client_ids: z.array(z.string()),
  })
  .meta({ id: 'ResourceServer', description: 'An API that accepts NetID access tokens' });

export const resourceServerView = (server: ResourceServer) => ({
  identifier: server.identifier,
  name: server.name,
  scopes: server.scopes,
  access_token_format: server.accessTokenFormat,
  signing_alg: server.signingAlg,
  access_token_ttl: server.accessTokenTtl,
  client_ids: server.clientIds,
});

export const ProfileSchema = z
  .object({
    id: z.string().uuid(),
    email: z.string().nullable(),
    email_verified: z.boolean(),
    phone: z.string().nullable(),
    phone_verified: z.boolean(),
    first_name: z.string(),
    last_name: z.string(),
    has_password: z.boolean(),
    blocked: z.boolean(),
    blocked_at: timestamp.nullable(),
    created_at: timestamp,
  })
  .meta({ id: 'Profile', description: "A person's network profile, as operators see it" });

export const profileView = (profile: Profile) => ({
  id: profile.id,
  email: profile.email,
  email_verified: profile.email_verified,
  phone: profile.phone,
  phone_verified: profile.phone_verified,
  first_name: profile.first_name,
  last_name: profile.last_name,
  has_password: Boolean(profile.password_hash),
  blocked: Boolean(profile.blocked_at),
  blocked_at: iso(profile.blocked_at),
  created_at: iso(profile.created_at)!,
});

export const AuditEventSchema = z
  .object({
    id: z.string(),
    occurred_at: timestamp,
    kind: z.string(),
    profile_id: z.string().nullable().meta({ description: 'The profile the event is about' }),
    account_id: z.string().nullable(),
    client_id: z.string().nullable(),
    actor: z.object({
      kind: z.enum(['profile', 'client', 'operator', 'netid']).nullable(),
      profile_id: z.string().nullable(),
      client_id: z.string().nullable(),
    }),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEvent', description: 'A change, who made it, from where, and when' });

export const auditEventView = (event: StoredAuditEvent) => ({
  id: event.id,
  occurred_at: iso(event.occurred_at)!,
  kind: event.kind,
  profile_id: event.profile_id,
  account_id: event.account_id,
  client_id: event.client_id,
  actor: { kind: event.actor_kind, profile_id: event.actor_profile_id, client_id: event.actor_client_id },
  ip: event.ip,
  user_agent: event.user_agent,
  detail: event.detail ?? {},
});

export const SigningKeySchema = z
  .object({
    kid: z.string(),
    alg: z.enum(['RS256', 'ES256', 'EdDSA']),
    state: z.enum(['next', 'current', 'previous', 'retired']),
    created_at: timestamp,
    promoted_at: timestamp.nullable(),
    retired_at: timestamp.nullable(),
  })
  .meta({ id: 'SigningKey' });

export const signingKeyView = (key: SigningKeySummary) => ({
  kid: key.kid,
  alg: key.alg,
  state: key.state,
  created_at: iso(key.created_at)!,
  promoted_at: iso(key.promoted_at),
  retired_at: iso(key.retired_at),
});

/** A page of a list: its items and the cursor of the next page (null on the last). */
export const pageOf = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ items: z.array(item), next: z.string().nullable() }).meta({ id, description: 'A page of items; `next` is the cursor of the next page' });
