import type { Queries } from '../db/queries.js';
import type { Caller } from './access-token.js';
import { ApiProblem } from './problems.js';

/** The management API's scopes, as its resource server offers them (src/api/api-resource-server.ts). */
export const API_SCOPES = {
  /** Manage one account: its back end with client_credentials, or one of its active admins signed in. */
  accountAdmin: 'account:admin',
  /** Run the installation: clients, resource servers, profiles, accounts, the audit trail, keys. */
  operator: 'operator',
} as const;

/** Who may call a route: an account's admins (and operators), or operators only. */
export type Access = 'account-admin' | 'operator';

/**
 * Every route of the API and who may call it: the one place scopes and roles
 * are decided. Each route in src/api/routes names its entry here.
 */
export const ROUTE_ACCESS = {
  'accounts.read': 'account-admin',
  'accounts.rename': 'account-admin',
  'members.list': 'account-admin',
  'members.read': 'account-admin',
  'members.invite': 'account-admin',
  'members.change-role': 'account-admin',
  'members.dismiss': 'account-admin',
  'members.restore': 'account-admin',
  'accounts.list': 'operator',
  'accounts.create': 'operator',
  'clients.list': 'operator',
  'clients.read': 'operator',
  'clients.create': 'operator',
  'clients.update': 'operator',
  'clients.delete': 'operator',
  'clients.rotate-secret': 'operator',
  'resource-servers.list': 'operator',
  'resource-servers.read': 'operator',
  'resource-servers.create': 'operator',
  'resource-servers.update': 'operator',
  'resource-servers.delete': 'operator',
  'resource-servers.allow': 'operator',
  'resource-servers.disallow': 'operator',
  'profiles.search': 'operator',
  'profiles.read': 'operator',
  'profiles.block': 'operator',
  'profiles.unblock': 'operator',
  'audit.list': 'operator',
  'keys.list': 'operator',
  'keys.add-next': 'operator',
  'keys.promote': 'operator',
  'keys.retire': 'operator',
} as const satisfies Record<string, Access>;

export type RouteId = keyof typeof ROUTE_ACCESS;

/** The scope a route's token must carry, as its OpenAPI security requirement says. */
export const scopeOf = (access: Access) => (access === 'operator' ? API_SCOPES.operator : API_SCOPES.accountAdmin);

/** An operator's service client: client_credentials with the operator scope. */
const isOperator = (caller: Caller) => !caller.profileId && caller.scopes.has(API_SCOPES.operator);

/**
 * Checks that the caller may call a route, and for an account's route that it
 * may act on that account: an operator on any; an account's own back end
 * (its client, client_credentials) on its account only; a person only where
 * they are an active admin and not blocked. A token for account A is refused
 * at account B's routes whether B exists or not, so it cannot probe.
 */
export async function authorize(queries: Queries, caller: Caller, access: Access, accountId?: string): Promise<void> {
  if (access === 'operator') {
    if (isOperator(caller)) return;
    throw new ApiProblem(caller.scopes.has(API_SCOPES.operator) ? 'forbidden' : 'insufficient-scope', {
      detail: 'this route is for operators: a client_credentials token with the operator scope',
    });
  }
  if (isOperator(caller)) return;
  if (!caller.scopes.has(API_SCOPES.accountAdmin)) {
    throw new ApiProblem('insufficient-scope', { detail: `this route needs the ${API_SCOPES.accountAdmin} scope` });
  }
  // Made only when refused: an Error captures a stack trace, a price every allowed call would pay.
  const forbidden = () => new ApiProblem('forbidden', { detail: 'this access token may not manage this account' });
  if (!accountId) throw forbidden();
  if (!caller.profileId) {
    const client = await queries.clients.findMetadata(caller.clientId);
    if (client?.netid_account_id !== accountId) throw forbidden();
    return;
  }
  const [membership, profile] = await Promise.all([queries.memberships.find(accountId, caller.profileId), queries.profiles.findById(caller.profileId)]);
  if (membership?.role !== 'admin' || membership.state !== 'active' || !profile || profile.blocked_at) throw forbidden();
}
