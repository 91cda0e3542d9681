import type { Client } from 'oidc-provider';

/** The account a client belongs to, when it is a Bitrix24 account's own client. */
export function accountIdOf(client: Client | undefined): string | undefined {
  const value = client?.metadata().netid_account_id;
  return typeof value === 'string' ? value : undefined;
}

/** An account's own client and first-party apps are trusted with what they ask; others need consent. */
export function skipsConsent(client: Client): boolean {
  return accountIdOf(client) !== undefined || client.metadata().netid_first_party === true;
}

/**
 * NetID's kinds of client: an account's own; an operator's service (which may
 * call the management API as an operator); a first-party app (no consent);
 * any other relying party.
 */
export type ClientKind = 'account' | 'operator' | 'first_party' | 'third_party';

export function clientKindOf(client: { accountId: string | null | undefined; firstParty: boolean; operator: boolean }): ClientKind {
  if (client.accountId) return 'account';
  if (client.operator) return 'operator';
  return client.firstParty ? 'first_party' : 'third_party';
}

/** The kind of a client as oidc-provider holds it, for metrics and policies. */
export function clientKind(client: Client | undefined): ClientKind {
  const metadata = client?.metadata();
  return clientKindOf({
    accountId: accountIdOf(client),
    firstParty: metadata?.netid_first_party === true,
    operator: metadata?.netid_operator === true,
  });
}
