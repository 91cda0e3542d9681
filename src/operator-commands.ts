import type { parseArgs } from 'node:util';
import { seed } from '../seeds/demo.js';
import { ACCOUNT_PROBLEMS } from './accounts/account-service.js';
import { MEMBERSHIP_PROBLEMS } from './accounts/membership-service.js';
import { CLIENT_PROBLEMS, DEFAULT_SECRET_GRACE_SECONDS } from './clients/client-service.js';
import type { NetidContext } from './context.js';
import { OPERATOR } from './db/audit.js';
import type { MembershipRole } from './db/memberships.js';
import type { Profile } from './db/profiles.js';
import { translator, type MessageKey } from './i18n/messages.js';
import { clientKindOf, type ClientKind } from './oidc/client-kind.js';
import { AFTER_KEY_STEP, KEY_PROBLEMS, type KeyStep } from './oidc/key-service.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './oidc/signing-keys.js';
import type { ProblemTable, Refusal } from './outcome.js';
import { normaliseEmail } from './profile/identifier.js';
import { PROFILE_PROBLEMS } from './profile/profile-service.js';
import { RESOURCE_SERVER_PROBLEMS } from './resource-servers/resource-server-service.js';

/** A command line the operator must correct (a missing or malformed option): exit status 2. */
export class UsageError extends Error {}

/** A command NetID refused for what it asks (a rule, a missing profile): exit status 1. */
export class CommandRefused extends Error {
  constructor(
    readonly problem: string,
    message: string,
  ) {
    super(message);
  }
}

export const options = {
  email: { type: 'string' },
  phone: { type: 'string' },
  password: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  'first-name': { type: 'string' },
  'last-name': { type: 'string' },
  admin: { type: 'string' },
  account: { type: 'string' },
  member: { type: 'string' },
  role: { type: 'string' },
  invited: { type: 'boolean' },
  all: { type: 'boolean' },
  name: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  'grant-type': { type: 'string', multiple: true },
  public: { type: 'boolean' },
  'first-party': { type: 'boolean' },
  operator: { type: 'boolean' },
  'backchannel-logout-uri': { type: 'string' },
  identifier: { type: 'string' },
  scope: { type: 'string', multiple: true },
  client: { type: 'string', multiple: true },
  format: { type: 'string' },
  alg: { type: 'string' },
  ttl: { type: 'string' },
  grace: { type: 'string' },
  kind: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

const required = (values: Values, name: keyof Values): string => {
  const value = values[name];
  if (typeof value !== 'string' || !value) throw new UsageError(`--${String(name)} is required`);
  return value;
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const english = translator('en');

/** The key rotation's refusals, in the command line's own words (its steps are commands). */
const KEY_STEP_HINTS: Record<keyof typeof KEY_PROBLEMS, string> = {
  'next-key-exists': 'a next key is already published: run "keys promote" before adding another',
  'no-next-key': 'no next key to promote: run "keys add-next" first and roll every instance',
  'previous-key-exists': 'a previous key is still published: run "keys retire" first',
};

/** What to do after a rotation step, the next step named as its command. */
function nextKeyStep(step: KeyStep): string {
  const { wait, then } = AFTER_KEY_STEP[step];
  return then ? `${wait}, then "keys ${then}"` : wait;
}

/**
 * What a refusal says on the command line. A problem with the input names the
 * option (`--scope is required …`) and is a usage error; any other is told in
 * the words a person reads on the pages.
 */
function refused(outcome: Refusal<string>, table: ProblemTable<string>): never {
  if (outcome.field && outcome.detail) throw new UsageError(`--${outcome.field} ${outcome.detail}`);
  const fields = Object.entries(outcome.fields ?? {});
  if (fields.length) throw new UsageError(fields.map(([name, key]) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${english(key as MessageKey)}`).join('\n'));
  const hint = (KEY_STEP_HINTS as Record<string, string>)[outcome.problem];
  throw new CommandRefused(outcome.problem, hint ?? outcome.detail ?? english(table[outcome.problem]?.messageKey ?? 'error.internal'));
}

/** The value of an Outcome, or the refusal told as the command line tells it. */
function expect<T extends { ok: boolean }>(outcome: T, table: ProblemTable<string>): Extract<T, { ok: true }> {
  if (!outcome.ok) refused(outcome as unknown as Refusal<string>, table);
  return outcome as Extract<T, { ok: true }>;
}

async function profileByEmail(context: NetidContext, email: string) {
  const normalised = normaliseEmail(email);
  const profile = normalised ? await context.services.profiles.findByIdentifier(normalised) : undefined;
  if (!profile) throw new CommandRefused('profile-not-found', `no profile with the email ${email}`);
  return profile;
}

async function accountByName(context: NetidContext, name: string) {
  const account = await context.services.accounts.findByName(name);
  if (!account) throw new CommandRefused('account-not-found', `no account named ${name}`);
  return account;
}

/** The one client a command is about (`--client` may be repeated for the commands that take several). */
function oneClient(values: Values): string {
  const [client, ...more] = values.client ?? [];
  if (!client || more.length) throw new UsageError('--client is required, once');
  return client;
}

/** `--grace` in whole seconds; its range is the rule's to check. */
function graceSeconds(values: Values): number {
  if (values.grace === undefined) return DEFAULT_SECRET_GRACE_SECONDS;
  if (!/^\d{1,10}$/.test(values.grace)) throw new UsageError('--grace must be whole seconds');
  return Number(values.grace);
}

const CLIENT_KINDS: readonly string[] = ['account', 'operator', 'first_party', 'third_party'] satisfies ClientKind[];

/** Every client of a kind, read a page at a time. */
async function allClients(context: NetidContext, kind: ClientKind | undefined) {
  const clients = [];
  let after: string | undefined;
  do {
    const page = await context.services.clients.list({ kind }, { limit: 100, after });
    clients.push(...page.items);
    after = page.next;
  } while (after);
  return clients;
}

/** A profile as the command line prints it. */
const profileSummary = (profile: Profile) => ({
  profile_id: profile.id,
  email: profile.email,
  blocked: Boolean(profile.blocked_at),
  blocked_at: profile.blocked_at ? new Date(profile.blocked_at).toISOString() : null,
});

const role = (values: Values): MembershipRole => {
  const value = values.role ?? 'user';
  if (value !== 'user' && value !== 'admin') throw new UsageError('--role must be user or admin');
  return value;
};

/**
 * Runs one command; returns what to print as JSON. Each is a thin client of
 * the same services the pages and the management API call, acting as the
 * operator. Exported for tests.
 */
export async function runCommand(context: NetidContext, positionals: string[], values: Values): Promise<unknown> {
  const { services } = context;
  const [noun, verb] = positionals;
  switch (`${noun} ${verb ?? ''}`.trim()) {
    case 'seed':
      return seed(context);
    case 'profile create': {
      const created = expect(
        await services.profiles.create(
          {
            email: required(values, 'email'),
            phone: values.phone,
            password: values['password-stdin'] ? await readStdin() : values.password,
            firstName: values['first-name'],
            lastName: values['last-name'],
          },
          OPERATOR,
        ),
        PROFILE_PROBLEMS,
      );
      return { profile_id: created.profile.id, email: created.profile.email, phone: created.profile.phone };
    }
    case 'profile block':
    case 'profile unblock': {
      const profile = await profileByEmail(context, required(values, 'email'));
      const changed = expect(await services.profiles.setBlocked(profile.id, verb === 'block', OPERATOR), PROFILE_PROBLEMS);
      return profileSummary(changed.profile);
    }
    case 'account create': {
      const admin = await profileByEmail(context, required(values, 'admin'));
      const created = expect(await services.accounts.create(admin.id, OPERATOR), ACCOUNT_PROBLEMS);
      return { account_id: created.account.id, name: created.account.name, client_id: created.clientId, client_secret: created.clientSecret };
    }
    case 'account add-member': {
      const account = await accountByName(context, required(values, 'account'));
      const member = await profileByEmail(context, required(values, 'member'));
      const membership = { role: role(values), state: values.invited ? ('invited' as const) : ('active' as const) };
      expect(await services.memberships.add(account.id, member.id, membership, OPERATOR), MEMBERSHIP_PROBLEMS);
      return { account: account.name, profile_id: member.id, ...membership };
    }
    case 'account dismiss-member': {
      const account = await accountByName(context, required(values, 'account'));
      const member = await profileByEmail(context, required(values, 'member'));
      expect(await services.memberships.dismiss(account.id, member.id, OPERATOR), MEMBERSHIP_PROBLEMS);
      return { account: account.name, profile_id: member.id, state: 'dismissed' };
    }
    case 'account id-token-alg': {
      const alg = required(values, 'alg');
      if (!(SIGNING_ALGORITHMS as readonly string[]).includes(alg)) throw new UsageError(`--alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
      if (Boolean(values.account) === Boolean(values.all)) throw new UsageError('give either --account NAME or --all');
      const accountIds = values.all ? 'all' : [(await accountByName(context, values.account!)).id];
      return services.accounts.setIdTokenAlg(accountIds, alg as SigningAlgorithm, OPERATOR);
    }
    case 'client register': {
      const registered = expect(
        await services.clients.register(
          {
            name: required(values, 'name'),
            redirectUris: values['redirect-uri'],
            postLogoutRedirectUris: values['post-logout-redirect-uri'],
            grantTypes: values['grant-type'],
            isPublic: values.public,
            firstParty: values['first-party'],
            operator: values.operator,
            backchannelLogoutUri: values['backchannel-logout-uri'],
          },
          OPERATOR,
        ),
        CLIENT_PROBLEMS,
      );
      return { client_id: registered.clientId, client_secret: registered.clientSecret, metadata: registered.metadata };
    }
    case 'client list': {
      const kind = values.kind;
      if (kind !== undefined && !CLIENT_KINDS.includes(kind)) throw new UsageError(`--kind must be one of ${CLIENT_KINDS.join(', ')}`);
      const clients = await allClients(context, kind as ClientKind | undefined);
      return clients.map((client) => ({
        client_id: client.clientId,
        kind: clientKindOf({ accountId: client.accountId, firstParty: client.firstParty, operator: client.metadata.netid_operator === true }),
        account_id: client.accountId,
        metadata: client.metadata,
      }));
    }
    case 'client rotate-secret': {
      const clientId = oneClient(values);
      const rotated = expect(await services.clients.rotateSecret(clientId, graceSeconds(values), OPERATOR), CLIENT_PROBLEMS);
      return {
        client_id: clientId,
        client_secret: rotated.clientSecret,
        previous_secret_expires_at: rotated.previousSecretExpiresAt?.toISOString() ?? null,
      };
    }
    case 'client delete': {
      const clientId = oneClient(values);
      expect(await services.clients.delete(clientId, OPERATOR), CLIENT_PROBLEMS);
      return { client_id: clientId, deleted: true };
    }
    case 'resource-server register': {
      const registered = expect(
        await services.resourceServers.register(
          {
            identifier: required(values, 'identifier'),
            name: required(values, 'name'),
            scopes: values.scope ?? [],
            clientIds: values.client,
            format: values.format,
            alg: values.alg,
            ttl: values.ttl === undefined ? undefined : Number(values.ttl),
          },
          OPERATOR,
        ),
        RESOURCE_SERVER_PROBLEMS,
      );
      return registered.server;
    }
    case 'resource-server allow': {
      const identifier = required(values, 'identifier');
      return expect(await services.resourceServers.allow(identifier, values.client ?? [], OPERATOR), RESOURCE_SERVER_PROBLEMS).server;
    }
    case 'resource-server disallow': {
      const identifier = required(values, 'identifier');
      if (!values.client?.length) throw new UsageError('--client is required');
      return expect(await services.resourceServers.disallow(identifier, values.client, OPERATOR), RESOURCE_SERVER_PROBLEMS).server;
    }
    case 'resource-server remove': {
      const identifier = required(values, 'identifier');
      expect(await services.resourceServers.remove(identifier, OPERATOR), RESOURCE_SERVER_PROBLEMS);
      return { identifier, removed: true };
    }
    case 'resource-server list':
      return services.resourceServers.list();
    case 'keys list':
      return services.keys.list();
    case 'keys add-next':
      return { added: expect(await services.keys.addNext(OPERATOR), KEY_PROBLEMS).added, next_step: nextKeyStep('add-next') };
    case 'keys promote':
      expect(await services.keys.promote(OPERATOR), KEY_PROBLEMS);
      return { promoted: true, next_step: nextKeyStep('promote') };
    case 'keys retire':
      return { retired: expect(await services.keys.retire(OPERATOR), KEY_PROBLEMS).retired, next_step: nextKeyStep('retire') };
    default:
      throw new UsageError(`unknown command "${positionals.join(' ')}"`);
  }
}
