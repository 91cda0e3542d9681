import { z } from 'zod';
import type { Actor } from '../db/audit.js';
import type { MessageKey } from '../i18n/messages.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import { isSingleLineText } from '../security/control-characters.js';
import type { ProfileServiceDependencies } from './profile-service.js';

const nameField = z.string().trim().max(100, 'name.too_long').refine(isSingleLineText, 'name.invalid_characters');

/** A person's names, as sign-up and edit profile both take them. */
export const nameFields = {
  firstName: nameField.min(1, 'name.first_required'),
  lastName: nameField,
};

const namesForm = z.object(nameFields);

export type NamesInput = z.input<typeof namesForm>;
export type NamesErrors = Partial<Record<keyof NamesInput, MessageKey>>;

/** The names as NetID stores them, or what is wrong with each. */
export function checkNames(input: NamesInput): { ok: true; names: z.output<typeof namesForm> } | { ok: false; errors: NamesErrors } {
  const parsed = namesForm.safeParse(input);
  if (parsed.success) return { ok: true, names: parsed.data };
  const errors: NamesErrors = {};
  for (const issue of parsed.error.issues) errors[issue.path[0] as keyof NamesInput] ??= issue.message as MessageKey;
  return { ok: false, errors };
}

/**
 * Edit profile (product.md 3): the profile's own names always change; with
 * `propagate` ("Update user account information on all connected Bitrix24
 * accounts") every connected membership's copy changes with them, in the same
 * transaction.
 */
export async function updateProfileNames(
  deps: ProfileServiceDependencies,
  profileId: string,
  input: NamesInput,
  propagate: boolean,
  actor: Actor,
): Promise<Outcome<{ accountsUpdated: number }, 'form-invalid'>> {
  const checked = checkNames(input);
  if (!checked.ok) return refuse('form-invalid', { fields: checked.errors });
  const { firstName, lastName } = checked.names;
  return deps.queries.transaction(async (queries) => {
    await queries.profiles.setNames(profileId, { firstName, lastName });
    const accountsUpdated = propagate ? await queries.memberships.updateConnected(profileId, { first_name: firstName || null, last_name: lastName || null }) : 0;
    await queries.audit.record({ kind: 'profile.names_changed', profileId, actor, detail: { propagated: accountsUpdated } });
    return ok({ accountsUpdated });
  });
}
