import Router from '@koa/router';
import { registerAccountPages } from '../accounts/account-pages.js';
import type { NetidContext } from '../context.js';
import type { Csrf } from '../security/csrf.js';
import { registerContacts } from './contacts-page.js';
import { registerDeleteProfile } from './delete-profile-page.js';
import { registerEditProfile } from './edit-profile-page.js';
import { registerMyNetwork } from './my-network-page.js';
import type { NetworkEnvironment } from './network-environment.js';
import { createNetworkKit } from './network-kit.js';
import type { NetworkSession } from './network-session.js';
import { registerPasswordPage } from './password-page.js';
import { registerSocialPage } from './social-page.js';
import { registerPasskeysPage } from './passkeys-page.js';
import { registerSecurityPage } from './security-page.js';
import { registerTotpPage } from './totp-page.js';

/** The network-profile pages under /network, each behind the network session. */
export function createNetworkRouter(context: NetidContext, csrf: Csrf, session: NetworkSession): Router {
  const router = new Router({ prefix: '/network' });
  router.use(session.required());
  const env: NetworkEnvironment = {
    context,
    kit: createNetworkKit(context.views, csrf, context.services.factors),
  };
  registerMyNetwork(router, env);
  registerEditProfile(router, env);
  registerContacts(router, env);
  registerPasswordPage(router, env);
  registerSocialPage(router, env);
  registerSecurityPage(router, env);
  registerTotpPage(router, env);
  registerPasskeysPage(router, env);
  registerDeleteProfile(router, env);
  registerAccountPages(router, env);
  return router;
}
