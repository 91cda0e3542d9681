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

export type ClientKind = 'account' | 'first_party' | 'third_party';

/** Which of NetID's three kinds of relying party a client is, for metrics. */
export function clientKind(client: Client | undefined): ClientKind {
  if (accountIdOf(client) !== undefined) return 'account';
  return client?.metadata().netid_first_party === true ? 'first_party' : 'third_party';
}
