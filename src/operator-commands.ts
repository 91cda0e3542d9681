import type { parseArgs } from 'node:util';
import { seed } from '../seeds/demo.js';
import { setAccountIdTokenAlg } from './accounts/account-id-token-alg.js';
import { createAccount } from './accounts/create-account.js';
import { addMember, dismissMember } from './accounts/membership-changes.js';
import { registerClient } from './clients/register-client.js';
import { checkClients, registerResourceServer, ResourceServerError } from './resource-servers/register-resource-server.js';
import type { NetidContext } from './context.js';
import { normaliseEmail, normalisePhone } from './profile/identifier.js';
import { translator } from './i18n/messages.js';
import { PASSWORD_PROBLEM_MESSAGES } from './profile/sign-up.js';
import { passwordProblem } from './security/password-policy.js';
import { hashPassword } from './security/passwords.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './oidc/signing-keys.js';

/** The operator commands, separate from process handling so tests can run them. */
export class UsageError extends Error {}

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
  'backchannel-logout-uri': { type: 'string' },
  identifier: { type: 'string' },
  scope: { type: 'string', multiple: true },
  client: { type: 'string', multiple: true },
  format: { type: 'string' },
  alg: { type: 'string' },
  ttl: { type: 'string' },
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

async function profileByEmail(context: NetidContext, email: string) {
  const normalised = normaliseEmail(email);
  const profile = normalised ? await context.queries.profiles.findByIdentifier(normalised) : undefined;
  if (!profile) throw new Error(`no profile with the email ${email}`);
  return profile;
}

async function accountByName(context: NetidContext, name: string) {
  const account = await context.queries.accounts.findByName(name);
  if (!account) throw new Error(`no account named ${name}`);
  return account;
}

/** A registration NetID refuses is the operator's to fix, like a missing option. */
function asUsageError(error: unknown): never {
  throw error instanceof ResourceServerError ? new UsageError(error.message) : error;
}

/** Runs one command; returns what to print as JSON. Exported for tests. */
export async function runCommand(context: NetidContext, positionals: string[], values: Values): Promise<unknown> {
  const [noun, verb] = positionals;
  switch (`${noun} ${verb ?? ''}`.trim()) {
    case 'seed':
      return seed(context);
    case 'profile create': {
      const email = normaliseEmail(required(values, 'email'));
      if (!email) throw new UsageError('--email is not an email address');
      const phone = values.phone ? normalisePhone(values.phone, context.config.defaultPhoneRegion) : undefined;
      if (values.phone && !phone) throw new UsageError('--phone is not a phone number (use the +country format)');
      const password = values['password-stdin'] ? await readStdin() : values.password;
      const problem = password ? passwordProblem(password, [email, ...(phone ? [phone] : [])]) : undefined;
      if (problem) throw new UsageError(`the password is refused: ${translator('en')(PASSWORD_PROBLEM_MESSAGES[problem])}`);
      const profile = await context.queries.profiles.insert({
        email,
        emailVerified: true,
        phone: phone ?? null,
        phoneVerified: Boolean(phone),
        passwordHash: password ? await hashPassword(password) : null,
        firstName: values['first-name'] ?? '',
        lastName: values['last-name'] ?? '',
      });
      await context.queries.audit.record({ kind: 'profile.created', profileId: profile.id, detail: { by: 'operator' } });
      return { profile_id: profile.id, email: profile.email, phone: profile.phone };
    }
    case 'account create': {
      const admin = await profileByEmail(context, required(values, 'admin'));
      const created = await createAccount(context.accountDependencies, admin.id);
      return {
        account_id: created.account.id,
        name: created.account.name,
        client_id: created.clientId,
        client_secret: created.clientSecret,
      };
    }
    case 'account add-member': {
      const account = await accountByName(context, required(values, 'account'));
      const member = await profileByEmail(context, required(values, 'member'));
      const role = values.role ?? 'user';
      if (role !== 'user' && role !== 'admin') throw new UsageError('--role must be user or admin');
      const state = values.invited ? 'invited' : 'active';
      await addMember(context.accountDependencies, { accountId: account.id, profileId: member.id, role, state });
      return { account: account.name, profile_id: member.id, role, state };
    }
    case 'account dismiss-member': {
      const account = await accountByName(context, required(values, 'account'));
      const member = await profileByEmail(context, required(values, 'member'));
      await dismissMember(context.accountDependencies, { accountId: account.id, profileId: member.id });
      return { account: account.name, profile_id: member.id, state: 'dismissed' };
    }
    case 'account id-token-alg': {
      const alg = required(values, 'alg');
      if (!(SIGNING_ALGORITHMS as readonly string[]).includes(alg)) throw new UsageError(`--alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
      if (Boolean(values.account) === Boolean(values.all)) throw new UsageError('give either --account NAME or --all');
      const accountIds = values.all ? 'all' : [(await accountByName(context, values.account!)).id];
      return { moved: await setAccountIdTokenAlg(context.accountDependencies, { accountIds, alg: alg as SigningAlgorithm }) };
    }
    case 'client register': {
      const registered = await registerClient(context.db, context.queries.clients, context.accountDependencies.validateClient, {
        name: required(values, 'name'),
        redirectUris: values['redirect-uri'],
        postLogoutRedirectUris: values['post-logout-redirect-uri'],
        grantTypes: values['grant-type'],
        isPublic: values.public,
        firstParty: values['first-party'],
        backchannelLogoutUri: values['backchannel-logout-uri'],
      });
      await context.queries.audit.record({ kind: 'client.registered', clientId: registered.clientId });
      return { client_id: registered.clientId, client_secret: registered.clientSecret, metadata: registered.metadata };
    }
    case 'resource-server register': {
      const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
      const server = await registerResourceServer(context.queries, {
        identifier: required(values, 'identifier'),
        name: required(values, 'name'),
        scopes: values.scope ?? [],
        clientIds: values.client,
        format: values.format,
        alg: values.alg,
        ttl,
      }).catch(asUsageError);
      await context.queries.audit.record({ kind: 'resource_server.registered', detail: { identifier: server.identifier, clients: server.clientIds } });
      return server;
    }
    case 'resource-server allow': {
      const identifier = required(values, 'identifier');
      if (!(await context.queries.resourceServers.find(identifier))) throw new UsageError(`no resource server ${identifier}`);
      const clientIds = await checkClients(context.queries.clients, values.client ?? []).catch(asUsageError);
      if (!clientIds.length) throw new UsageError('--client is required');
      for (const clientId of clientIds) {
        if (await context.queries.resourceServers.allowClient(identifier, clientId)) {
          await context.queries.audit.record({ kind: 'resource_server.client_allowed', clientId, detail: { identifier } });
        }
      }
      return context.queries.resourceServers.find(identifier);
    }
    case 'resource-server list':
      return context.queries.resourceServers.list();
    case 'keys list':
      return context.keys.list();
    case 'keys add-next':
      return { added: await context.keys.addNext(), next_step: 'roll every instance, wait for relying parties to refresh JWKS, then "keys promote"' };
    case 'keys promote':
      await context.keys.promote();
      return { promoted: true, next_step: 'roll every instance; once tokens signed by the previous key have expired, "keys retire"' };
    case 'keys retire':
      return { retired: await context.keys.retire(), next_step: 'roll every instance' };
    default:
      throw new UsageError(`unknown command "${positionals.join(' ')}"`);
  }
}

