import type * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { NetidContext } from '../../src/context.js';
import { discoverAsClient, exchangeCode, startAuthorization } from './relying-party.js';
import { isPage, type Page, type UserAgent } from './user-agent.js';

/** Opens My Network in `agent`, signing in through the sign-in screen when asked to. */
export async function signInToNetwork(agent: UserAgent, identifier: string, password: string): Promise<Page> {
  const first = await agent.page('/network');
  if (!first.document.querySelector('form[action$="/login"]')) return first;
  const result = await agent.submit(first, 'form[action$="/login"]', { identifier, password });
  if (!isPage(result)) throw new Error(`signing in to the network left NetID for ${result.location.toString()}`);
  return result;
}

/** Submits a form on a network page and returns where the browser ends up. */
export async function submitPage(agent: UserAgent, page: Page, selector: string, fields: Record<string, string> = {}): Promise<Page> {
  const result = await agent.submit(page, selector, fields);
  if (!isPage(result)) throw new Error(`expected a NetID page, was sent to ${result.location.toString()}`);
  return result;
}

export const alertText = (page: Page) =>
  page.document
    .querySelectorAll('[role=alert], .error')
    .map((e) => e.text.trim())
    .join(' ');

/**
 * The ID token claims an account's client receives for the person signed in
 * to `agent` (SSO: no form is shown). The client secret is read from the
 * store, as an account provisioned by the operator would hold it.
 */
export async function accountIdToken(context: NetidContext, agent: UserAgent, issuer: string, accountName: string, scope = 'openid profile email phone membership'): Promise<oidc.IDToken> {
  const account = await context.queries.accounts.findByName(accountName);
  if (!account) throw new Error(`no account ${accountName}`);
  const client = await context.queries.clients.findByAccount(account.id);
  const metadata = await context.queries.clients.findMetadata(client!.client_id);
  const rp = await discoverAsClient(issuer, client!.client_id, metadata!.client_secret as string);
  const redirectUri = (accountClientUris(context.config.accountUrlPattern, accountName).redirect_uris as string[])[0]!;
  const pending = await startAuthorization(rp, redirectUri, { scope });
  const callback = await agent.redirect(pending.url.toString());
  if (callback.searchParams.get('error')) throw new Error(`the account got ${callback.searchParams.get('error')}`);
  return (await exchangeCode(rp, callback, pending)).claims()!;
}
