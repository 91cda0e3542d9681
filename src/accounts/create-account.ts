import { randomUUID } from 'node:crypto';
import type { Account, AccountQueries } from '../db/accounts.js';
import type { AuditQueries } from '../db/audit.js';
import type { ClientQueries } from '../db/clients.js';
import type { Database } from '../db/database.js';
import type { MembershipQueries } from '../db/memberships.js';
import type { ProfileQueries } from '../db/profiles.js';
import { registerClient, type ClientMetadataValidator } from '../clients/register-client.js';
import type { BackchannelLogoutDependencies } from '../oidc/backchannel-logout.js';
import type { SigningAlgorithm } from '../oidc/signing-keys.js';
import { accountClientUris } from './account-address.js';
import { randomAccountName } from './account-names.js';

/** What account changes need; a dismissal also tells the account's client (BackchannelLogoutDependencies). */
export interface AccountDependencies extends BackchannelLogoutDependencies {
  db: Database;
  profiles: ProfileQueries;
  accounts: AccountQueries;
  memberships: MembershipQueries;
  clients: ClientQueries;
  audit: AuditQueries;
  validateClient: ClientMetadataValidator;
  accountUrlPattern: string;
  /** How a new account's client has its ID tokens signed (ACCOUNT_ID_TOKEN_ALG). */
  accountIdTokenAlg: SigningAlgorithm;
}

export interface CreatedAccount {
  account: Account;
  clientId: string;
  clientSecret: string;
}

const UNIQUE_VIOLATION = '23505';

/**
 * Creates an account with a random name, its creator as active admin, and its
 * confidential OIDC client, all in one transaction: no account without a client.
 */
export async function createAccount(
  deps: AccountDependencies,
  adminProfileId: string,
  outer?: Database,
): Promise<CreatedAccount> {
  for (let attempt = 0; ; attempt++) {
    try {
      // Inside a caller's transaction (sign-up) this is a savepoint, so a name clash retries alone.
      return await (outer ?? deps.db).transaction(async (trx) => {
        const account = await deps.accounts.insert({ id: randomUUID(), name: randomAccountName() }, trx);
        await deps.memberships.insert({ accountId: account.id, profileId: adminProfileId, role: 'admin', state: 'active' }, trx);
        const client = await registerClient(
          trx,
          deps.clients,
          deps.validateClient,
          {
            name: account.name,
            clientId: `account-${account.id}`,
            // Accounts' back ends are ours and verify ES256 (product decision); RS256 stays every other client's default.
            extra: { ...accountClientUris(deps.accountUrlPattern, account.name), id_token_signed_response_alg: deps.accountIdTokenAlg },
          },
          { accountId: account.id, trx },
        );
        await deps.audit.record({ kind: 'account.created', profileId: adminProfileId, accountId: account.id, clientId: client.clientId }, trx);
        return { account, clientId: client.clientId, clientSecret: client.clientSecret! };
      });
    } catch (error) {
      // A random name that is already taken: draw another.
      if ((error as { code?: string }).code === UNIQUE_VIOLATION && attempt < 5) continue;
      throw error;
    }
  }
}
