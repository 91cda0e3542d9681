import type { Actor } from '../db/audit.js';
import type { Profile } from '../db/profiles.js';
import type { MessageKey } from '../i18n/messages.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import { isCodeShaped, type CodeProblem } from './confirm-email.js';
import { normaliseEmail, normalisePhone } from './identifier.js';
import type { CodePurpose } from './one-time-codes.js';
import type { ProfileServiceDependencies } from './profile-service.js';
import { sendCode } from './send-code.js';

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

/**
 * Sends a code to a phone or email the person wants to connect. Whether the
 * address already belongs to someone is not told here (that would let anyone
 * probe who is registered); only its owner, holding the code, learns it.
 */
export async function requestContactCode(
  deps: ProfileServiceDependencies,
  profile: Profile,
  kind: ContactKind,
  input: { value: string; propagate: boolean; locale: string },
): Promise<Outcome<{ target: string }, 'form-invalid' | 'contact-already-yours' | 'code-wait'>> {
  const rules = CONTACTS[kind];
  const target = rules.normalise(input.value, deps.defaultPhoneRegion);
  if (!target) return refuse('form-invalid', { fields: { value: rules.invalidKey } });
  if (profile[rules.profileColumn] === target && profile[rules.verifiedColumn]) return refuse('contact-already-yours');
  const sent = await sendCode(deps.queries, deps.wakeDelivery, {
    profileId: profile.id,
    purpose: rules.purpose,
    target,
    channel: rules.channel,
    locale: input.locale,
    options: { propagate: input.propagate },
  });
  // SMS cost money and both can pester someone: the codes' own hourly cap (one-time-codes.ts) applies.
  if (!sent.issued) return refuse('code-wait', { retryAfterSeconds: sent.retryAfterSeconds });
  return ok({ target });
}

const UNIQUE_VIOLATION = '23505';

/**
 * Confirms the code: the phone or email becomes the profile's, confirmed, and
 * with the option chosen at request time the membership copies in every
 * connected account change too; open invitations to that address make the
 * profile a member of the inviting accounts; all in one transaction.
 */
export async function confirmContact(
  deps: ProfileServiceDependencies,
  profileId: string,
  kind: ContactKind,
  code: string,
  actor: Actor,
): Promise<Outcome<{ target: string; accountsUpdated: number }, CodeProblem | `contact-${ContactKind}-taken`>> {
  const rules = CONTACTS[kind];
  if (!isCodeShaped(code)) return refuse('code-format');
  try {
    return await deps.queries.transaction(async (queries) => {
      const verified = await queries.codes.verify({ profileId, purpose: rules.purpose, code });
      if (!verified.valid) return refuse(`code-${verified.reason}`);
      const owner = await queries.profiles.ownerOf(rules.profileColumn, verified.target);
      // The code is spent either way: the person has learned what they can learn.
      if (owner && owner !== profileId) return refuse(`contact-${kind}-taken`);
      await queries.profiles.setConfirmedContact(profileId, rules.profileColumn, verified.target);
      const accountsUpdated =
        verified.options.propagate === true ? await queries.memberships.updateConnected(profileId, { [rules.membershipColumn]: verified.target }) : 0;
      await deps.memberships.acceptInvitations(queries, profileId, verified.target, actor);
      await queries.audit.record({ kind: `profile.${kind}_connected`, profileId, actor, detail: { propagated: accountsUpdated } });
      return ok({ target: verified.target, accountsUpdated });
    });
  } catch (error) {
    // Another profile connected the same address between our check and our update.
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) return refuse(`contact-${kind}-taken`);
    throw error;
  }
}

/** The address a code is on its way to, if any, so the page can ask for it. */
export async function pendingContact(deps: ProfileServiceDependencies, profileId: string, kind: ContactKind): Promise<string | undefined> {
  return deps.queries.codes.pendingTarget({ profileId, purpose: CONTACTS[kind].purpose });
}
