import type { ClientMetadata } from '../db/clients.js';

/**
 * Where an account lives, from ACCOUNT_URL_PATTERN (e.g. https://{name}.bitrix24.test).
 * The account's client follows it, so a rename moves every URI at once.
 */
export function accountBaseUrl(pattern: string, name: string): string {
  return pattern.replaceAll('{name}', name).replace(/\/+$/, '');
}

export function accountClientUris(pattern: string, name: string): Partial<ClientMetadata> {
  const base = accountBaseUrl(pattern, name);
  return {
    client_name: name,
    client_uri: `${base}/`,
    redirect_uris: [`${base}/oauth/netid/callback`],
    initiate_login_uri: `${base}/oauth/netid/login`,
    post_logout_redirect_uris: [`${base}/`],
    backchannel_logout_uri: `${base}/oauth/netid/backchannel-logout`,
    backchannel_logout_session_required: true,
  };
}
