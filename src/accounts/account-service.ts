import { randomUUID } from 'node:crypto';
import type { Account } from '../db/accounts.js';
import type { Actor } from '../db/audit.js';
import type { Page } from '../db/profiles.js';
import type { Queries } from '../db/queries.js';
import type { ClientService } from '../clients/client-service.js';
import type { SigningAlgorithm } from '../oidc/signing-keys.js';
import { ok, refuse, type Outcome, type ProblemTable } from '../outcome.js';
import { accountClientUris } from './account-address.js';
import { checkAccountName, randomAccountName, type AccountNameProblem } from './account-names.js';

export interface CreatedAccount {
  account: Account;
  clientId: string;
  clientSecret: string;
}

export type AccountProblem =
  | 'account-not-found'
  | 'profile-not-found'
  | 'not-an-admin'
  | 'account-already-renamed'
  | 'account-name-same'
  | 'account-name-taken'
  | 'second-factor-needed-first'
  | `account-name-${AccountNameProblem}`;

export const ACCOUNT_PROBLEMS: ProblemTable<AccountProblem> = {
  'account-not-found': { status: 404, messageKey: 'problem.account_not_found' },
  'profile-not-found': { status: 404, messageKey: 'problem.profile_not_found' },
  'not-an-admin': { status: 403, messageKey: 'rename.not_admin' },
  'account-already-renamed': { status: 409, messageKey: 'rename.already_renamed' },
  'account-name-same': { status: 400, messageKey: 'rename.same' },
  'account-name-taken': { status: 409, messageKey: 'rename.taken' },
  'second-factor-needed-first': { status: 409, messageKey: 'account_security.need_own_factor' },
  'account-name-length': { status: 400, messageKey: 'rename.length' },
  'account-name-characters': { status: 400, messageKey: 'rename.characters' },
  'account-name-hyphens': { status: 400, messageKey: 'rename.hyphens' },
  'account-name-reserved': { status: 400, messageKey: 'rename.reserved' },
};

const UNIQUE_VIOLATION = '23505';

export interface AccountServiceDependencies {
  queries: Queries;
  clients: ClientService;
  accountUrlPattern: string;
  /** How a new account's client has its ID tokens signed (ACCOUNT_ID_TOKEN_ALG). */
  accountIdTokenAlg: SigningAlgorithm;
}

/** An account client moved to another ID token algorithm. */
export interface MovedClient {
  account: string;
  client_id: string;
  /** What the client had: absent means oidc-provider's default for every client, RS256. */
  from: string;
  to: SigningAlgorithm;
}

/** Accounts: created with a random name and their own client, renamed once, and read. */
export function createAccountService(deps: AccountServiceDependencies) {
  /**
   * Creates an account with a random name, `adminProfileId` as its active
   * admin, and its confidential OIDC client, in `queries`' transaction (sign-up
   * makes a profile and its first account in one): no account without a client.
   */
  async function createIn(queries: Queries, adminProfileId: string, actor: Actor): Promise<Outcome<CreatedAccount, 'profile-not-found'>> {
    if (!(await queries.profiles.findById(adminProfileId))) return refuse('profile-not-found');
    for (let attempt = 0; ; attempt++) {
      try {
        // A savepoint, so a name clash retries alone.
        return await queries.transaction(async (inner) => {
          const account = await inner.accounts.insert({ id: randomUUID(), name: randomAccountName() });
          await inner.memberships.insert({ accountId: account.id, profileId: adminProfileId, role: 'admin', state: 'active' });
          const client = await deps.clients.registerIn(
            inner,
            {
              name: account.name,
              clientId: `account-${account.id}`,
              // client_credentials lets the account's back end call the management API for its own account.
              grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
              // Accounts' back ends are ours and verify ES256 (a product decision); RS256 stays every other client's default.
              extra: { ...accountClientUris(deps.accountUrlPattern, account.name), id_token_signed_response_alg: deps.accountIdTokenAlg },
            },
            actor,
            { accountId: account.id },
          );
          // The account's client is made from NetID's own settings; a refusal here is a bug, not bad input.
          if (!client.ok) throw new Error(`the account's client was refused: ${client.detail}`);
          await inner.audit.record({ kind: 'account.created', profileId: adminProfileId, accountId: account.id, clientId: client.clientId, actor });
          return ok({ account, clientId: client.clientId, clientSecret: client.clientSecret! });
        });
      } catch (error) {
        // A random name that is already taken: draw another.
        if ((error as { code?: string }).code === UNIQUE_VIOLATION && attempt < 5) continue;
        throw error;
      }
    }
  }

  return {
    /**
     * Moves accounts' clients to another ID token algorithm. Clients made
     * before ACCOUNT_ID_TOKEN_ALG keep theirs until an operator runs this,
     * since the account's back end must verify the new algorithm first; ones
     * already signing with `alg` are left alone.
     */
    async setIdTokenAlg(accountIds: string[] | 'all', alg: SigningAlgorithm, actor: Actor): Promise<{ moved: MovedClient[] }> {
      return deps.queries.transaction(async (queries) => {
        const moved: MovedClient[] = [];
        const accounts = accountIds === 'all' ? await queries.accounts.listAll() : await Promise.all(accountIds.map((id) => queries.accounts.findById(id)));
        for (const account of accounts) {
          const client = account && (await queries.clients.findByAccount(account.id));
          if (!account || !client) continue;
          const from = typeof client.metadata.id_token_signed_response_alg === 'string' ? client.metadata.id_token_signed_response_alg : 'RS256';
          if (from === alg) continue;
          await queries.clients.updateMetadata(client.client_id, { ...client.metadata, id_token_signed_response_alg: alg });
          await queries.audit.record({ kind: 'account.id_token_alg_changed', accountId: account.id, clientId: client.client_id, actor, detail: { from, to: alg } });
          moved.push({ account: account.name, client_id: client.client_id, from, to: alg });
        }
        return { moved };
      });
    },

    create: (adminProfileId: string, actor: Actor) => deps.queries.transaction((queries) => createIn(queries, adminProfileId, actor)),
    createIn,

    async read(accountId: string): Promise<Outcome<{ account: Account }, 'account-not-found'>> {
      const account = await deps.queries.accounts.findById(accountId);
      return account ? ok({ account }) : refuse('account-not-found');
    },

    async findByName(name: string): Promise<Account | undefined> {
      return deps.queries.accounts.findByName(name);
    },

    list(filter: { name?: string | undefined }, page: { limit: number; after?: string | undefined }): Promise<Page<Account>> {
      return deps.queries.accounts.list(filter, page);
    },

    /**
     * Whether everyone signing in to the account must prove two factors
     * (the login check and the sign-in's second-factor step read it). When a
     * person asks, only an active admin may, and one who turns it on must have
     * a second factor already, or they would lock themselves out; the
     * account's own back end and operators decide for the account.
     */
    async setRequireSecondFactor(accountId: string, required: boolean, actor: Actor): Promise<Outcome<{ account: Account }, AccountProblem>> {
      return deps.queries.transaction(async (queries) => {
        const account = await queries.accounts.findByIdForUpdate(accountId);
        if (!account) return refuse('account-not-found');
        if (actor.kind === 'profile') {
          const membership = await queries.memberships.find(accountId, actor.profileId!);
          if (membership?.role !== 'admin' || membership.state !== 'active') return refuse('not-an-admin');
          const own = await queries.factors.summary(actor.profileId!);
          if (required && !own.totp && own.passkeys === 0) return refuse('second-factor-needed-first');
        }
        if (account.require_second_factor === required) return ok({ account });
        await queries.accounts.setRequireSecondFactor(accountId, required);
        await queries.audit.record({ kind: 'account.second_factor_requirement_changed', accountId, actor, detail: { required } });
        return ok({ account: { ...account, require_second_factor: required } });
      });
    },

    /**
     * Rename an account (product.md 4): once. When a person asks, only an
     * active admin of the account may; the account's own back end (through the
     * API) and operators may too, the once included. The account's client moves
     * with it (redirect URIs, `initiate_login_uri`, logout URIs) in the same
     * transaction, and the old name stops resolving.
     */
    async rename(
      accountId: string,
      newName: string,
      actor: Actor,
    ): Promise<Outcome<{ name: string; previousName: string }, AccountProblem>> {
      const checked = checkAccountName(newName);
      if (!checked.ok) return refuse(`account-name-${checked.problem}`);
      try {
        return await deps.queries.transaction(async (queries) => {
          const account = await queries.accounts.findByIdForUpdate(accountId);
          if (!account) return refuse('account-not-found');
          if (actor.kind === 'profile') {
            const membership = await queries.memberships.find(accountId, actor.profileId!);
            if (membership?.role !== 'admin' || membership.state !== 'active') return refuse('not-an-admin');
          }
          if (account.renamed_at) return refuse('account-already-renamed');
          if (account.name === checked.name) return refuse('account-name-same');
          if (await queries.accounts.findByName(checked.name)) return refuse('account-name-taken');

          await queries.accounts.rename(accountId, checked.name);
          const client = await queries.clients.findByAccount(accountId);
          if (client) await queries.clients.updateMetadata(client.client_id, { ...client.metadata, ...accountClientUris(deps.accountUrlPattern, checked.name) });
          await queries.audit.record({ kind: 'account.renamed', accountId, actor, detail: { from: account.name, to: checked.name } });
          return ok({ name: checked.name, previousName: account.name });
        });
      } catch (error) {
        // Another account took the name between the check and the update.
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) return refuse('account-name-taken');
        throw error;
      }
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
