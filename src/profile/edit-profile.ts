import { z } from 'zod';
import type { AuditQueries } from '../db/audit.js';
import type { Database } from '../db/database.js';
import type { MembershipQueries } from '../db/memberships.js';
import type { MessageKey } from '../i18n/messages.js';
import { isSingleLineText } from '../security/control-characters.js';

const nameField = z.string().trim().max(100, 'name.too_long').refine(isSingleLineText, 'name.invalid_characters');

/** A person's names, as sign-up and edit profile both take them. */
export const nameFields = {
  firstName: nameField.min(1, 'name.first_required'),
  lastName: nameField,
};

const namesForm = z.object(nameFields);

export type NamesInput = z.input<typeof namesForm>;
export type NamesErrors = Partial<Record<keyof NamesInput, MessageKey>>;

export interface ProfileEditDependencies {
  db: Database;
  memberships: MembershipQueries;
  audit: AuditQueries;
}

/**
 * Edit profile (product.md 3): the profile's own names always change; with
 * `propagate` ("Update user account information on all connected Bitrix24
 * accounts") every connected membership's copy changes with them, in the same
 * transaction.
 */
export async function updateProfileNames(
  deps: ProfileEditDependencies,
  profileId: string,
  input: NamesInput,
  propagate: boolean,
): Promise<{ ok: true; accountsUpdated: number } | { ok: false; errors: NamesErrors }> {
  const parsed = namesForm.safeParse(input);
  if (!parsed.success) {
    const errors: NamesErrors = {};
    for (const issue of parsed.error.issues) errors[issue.path[0] as keyof NamesInput] ??= issue.message as MessageKey;
    return { ok: false, errors };
  }
  const { firstName, lastName } = parsed.data;
  return deps.db.transaction(async (trx) => {
    await trx('profiles').where({ id: profileId }).update({ first_name: firstName, last_name: lastName, updated_at: trx.fn.now() });
    const accountsUpdated = propagate
      ? await deps.memberships.updateConnected(profileId, { first_name: firstName || null, last_name: lastName || null }, trx)
      : 0;
    await deps.audit.record({ kind: 'profile.names_changed', profileId, detail: { propagated: accountsUpdated } }, trx);
    return { ok: true as const, accountsUpdated };
  });
}
