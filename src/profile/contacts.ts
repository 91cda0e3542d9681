import type { AuditQueries } from '../db/audit.js';
import type { Database } from '../db/database.js';
import type { MembershipQueries } from '../db/memberships.js';
import type { Profile } from '../db/profiles.js';
import type { MessageKey } from '../i18n/messages.js';
import { normaliseEmail, normalisePhone } from './identifier.js';
import { CODE_REFUSAL_MESSAGES, type CodePurpose } from './one-time-codes.js';
import { sendCode, type CodeDelivery } from './send-code.js';

/** A way to reach the person: connected with a code, then usable to sign in and to recover access. */
export type ContactKind = 'phone' | 'email';

interface ContactRules {
  purpose: Extract<CodePurpose, 'connect-phone' | 'connect-email'>;
  channel: 'sms' | 'email';
  profileColumn: 'phone' | 'email';
  verifiedColumn: 'phone_verified' | 'email_verified';
  /** The membership field the option "update in every account" copies to (product.md 6). */
  membershipColumn: 'mobile_phone' | 'contact_email';
  normalise(input: string, defaultRegion: string | undefined): string | undefined;
  invalidKey: MessageKey;
}

export const CONTACTS: Record<ContactKind, ContactRules> = {
  phone: {
    purpose: 'connect-phone',
    channel: 'sms',
    profileColumn: 'phone',
    verifiedColumn: 'phone_verified',
    membershipColumn: 'mobile_phone',
    normalise: (input, region) => normalisePhone(input, region),
    invalidKey: 'contacts.phone_invalid',
  },
  email: {
    purpose: 'connect-email',
    channel: 'email',
    profileColumn: 'email',
    verifiedColumn: 'email_verified',
    membershipColumn: 'contact_email',
    normalise: (input) => normaliseEmail(input),
    invalidKey: 'contacts.email_invalid',
  },
};

export interface ContactDependencies {
  db: Database;
  memberships: MembershipQueries;
  audit: AuditQueries;
  codes: CodeDelivery;
  defaultPhoneRegion: string | undefined;
}

export type ContactRequestResult =
  | { ok: true; target: string }
  | { ok: false; errorKey: MessageKey; retryAfterSeconds?: number };

/**
 * Sends a code to a phone or email the person wants to connect. Whether the
 * address already belongs to someone is not told here (that would let anyone
 * probe who is registered); only its owner, holding the code, learns it.
 */
export function createContactRequests(deps: ContactDependencies) {
  return {
    async request(
      profile: Profile,
      kind: ContactKind,
      input: { value: string; propagate: boolean; locale: string },
    ): Promise<ContactRequestResult> {
      const rules = CONTACTS[kind];
      const target = rules.normalise(input.value, deps.defaultPhoneRegion);
      if (!target) return { ok: false, errorKey: rules.invalidKey };
      if (profile[rules.profileColumn] === target && profile[rules.verifiedColumn]) {
        return { ok: false, errorKey: 'contacts.already_yours' };
      }
      const sent = await sendCode(deps.codes, {
        profileId: profile.id,
        purpose: rules.purpose,
        target,
        channel: rules.channel,
        locale: input.locale,
        options: { propagate: input.propagate },
      });
      // SMS cost money and both can pester someone: the codes' own hourly cap (one-time-codes.ts) applies.
      if (!sent.issued) return { ok: false, errorKey: 'code.wait', retryAfterSeconds: sent.retryAfterSeconds };
      return { ok: true, target };
    },
  };
}

export type ContactConfirmResult =
  | { ok: true; target: string; accountsUpdated: number }
  | { ok: false; errorKey: MessageKey };

/**
 * Confirms the code: the phone or email becomes the profile's, confirmed, and
 * with the option chosen at request time the membership copies in every
 * connected account change too; all in one transaction.
 */
export async function confirmContact(
  deps: ContactDependencies,
  profileId: string,
  kind: ContactKind,
  code: string,
): Promise<ContactConfirmResult> {
  const rules = CONTACTS[kind];
  if (!/^\d{6}$/.test(code.replace(/\s+/g, ''))) return { ok: false, errorKey: 'code.format' };
  try {
    return await confirmInTransaction(deps, profileId, kind, code);
  } catch (error) {
    // Another profile connected the same address between our check and our update.
    if ((error as { code?: string }).code === '23505') return { ok: false, errorKey: `contacts.${kind}_taken` as MessageKey };
    throw error;
  }
}

function confirmInTransaction(deps: ContactDependencies, profileId: string, kind: ContactKind, code: string): Promise<ContactConfirmResult> {
  const rules = CONTACTS[kind];
  return deps.db.transaction(async (trx) => {
    const verified = await deps.codes.codes.verify({ profileId, purpose: rules.purpose, code }, trx);
    if (!verified.valid) return { ok: false as const, errorKey: CODE_REFUSAL_MESSAGES[verified.reason] };
    const owner = await trx('profiles').where(rules.profileColumn, verified.target).first<{ id: string } | undefined>('id');
    // The code is spent either way: the person has learned what they can learn.
    if (owner && owner.id !== profileId) return { ok: false as const, errorKey: `contacts.${kind}_taken` as MessageKey };
    await trx('profiles')
      .where({ id: profileId })
      .update({ [rules.profileColumn]: verified.target, [rules.verifiedColumn]: true, updated_at: trx.fn.now() });
    const accountsUpdated = verified.options.propagate === true
      ? await deps.memberships.updateConnected(profileId, { [rules.membershipColumn]: verified.target }, trx)
      : 0;
    await deps.audit.record({ kind: `profile.${kind}_connected`, profileId, detail: { propagated: accountsUpdated } }, trx);
    return { ok: true as const, target: verified.target, accountsUpdated };
  });
}

/** The code the person is waiting for, if any, so the page can ask for it. */
export async function pendingContact(db: Database, profileId: string, kind: ContactKind): Promise<string | undefined> {
  const row = await db('one_time_codes')
    .where({ profile_id: profileId, purpose: CONTACTS[kind].purpose })
    .whereNull('consumed_at')
    .where('expires_at', '>', db.fn.now())
    .orderBy('created_at', 'desc')
    .first<{ target: string } | undefined>('target');
  return row?.target;
}
