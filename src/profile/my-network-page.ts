import type Router from '@koa/router';
import { accountBaseUrl } from '../accounts/account-address.js';
import type { ProfileMembership } from '../db/memberships.js';
import type { NetworkEnvironment } from './network-environment.js';
import { visitorOf } from './network-kit.js';

/**
 * My Network (product.md 1): every account where the profile is an admin or an
 * invited or active member, each with one click in. The click is OpenID
 * Connect third-party-initiated login (Core 4): the account's
 * `initiate_login_uri` with our issuer, and the account starts its own
 * authorization request, which the network session answers at once.
 */
export function registerMyNetwork(router: Router, env: NetworkEnvironment): void {
  const { context, kit } = env;

  const entry = (membership: ProfileMembership) => {
    const address = `${accountBaseUrl(context.config.accountUrlPattern, membership.account_name)}/`;
    let enterUrl: string | undefined;
    if (membership.initiate_login_uri) {
      const url = new URL(membership.initiate_login_uri);
      url.searchParams.set('iss', context.config.issuer);
      url.searchParams.set('target_link_uri', address);
      enterUrl = url.toString();
    }
    return {
      name: membership.account_name,
      role: membership.role,
      state: membership.state,
      address,
      enterUrl,
      canRename: membership.role === 'admin' && membership.state === 'active' && !membership.account_renamed_at,
      administered: membership.role === 'admin' && membership.state === 'active',
    };
  };

  router.get('/', async (ctx) => {
    const { profile } = visitorOf(ctx);
    const memberships = await context.queries.memberships.listForProfile(profile.id);
    kit.render(ctx, 'my-network', { accounts: memberships.filter((m) => m.state !== 'dismissed').map(entry) });
  });
}
