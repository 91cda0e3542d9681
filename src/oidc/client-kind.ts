import type { Client } from 'oidc-provider';

/** What NetID reads from a client's own metadata. */
interface NetidMarks {
  accountId: string | undefined;
  firstParty: boolean;
  operator: boolean;
}

// oidc-provider keeps one Client object per client metadata and builds a new one when the metadata
// changes, so marks read once per object stay right. Reading them costs a metadata() call, which
// renames every property, and a refresh asks for them several times.
const marksOf = new WeakMap<Client, NetidMarks>();

function netidMarks(client: Client): NetidMarks {
  let marks = marksOf.get(client);
  if (!marks) {
    const metadata = client.metadata();
    marks = {
      accountId: typeof metadata.netid_account_id === 'string' ? metadata.netid_account_id : undefined,
      firstParty: metadata.netid_first_party === true,
      operator: metadata.netid_operator === true,
    };
    marksOf.set(client, marks);
  }
  return marks;
}

/** The account a client belongs to, when it is a Bitrix24 account's own client. */
export function accountIdOf(client: Client | undefined): string | undefined {
  return client ? netidMarks(client).accountId : undefined;
}

/** An account's own client and first-party apps are trusted with what they ask; others need consent. */
export function skipsConsent(client: Client): boolean {
  const marks = netidMarks(client);
  return marks.accountId !== undefined || marks.firstParty;
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
  return clientKindOf(client ? netidMarks(client) : { accountId: undefined, firstParty: false, operator: false });
}
