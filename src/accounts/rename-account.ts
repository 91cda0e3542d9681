import type { MessageKey } from '../i18n/messages.js';
import { accountClientUris } from './account-address.js';
import { checkAccountName, type AccountNameProblem } from './account-names.js';
import type { AccountDependencies } from './create-account.js';

export type RenameProblem = AccountNameProblem | 'taken' | 'same' | 'not-admin' | 'already-renamed';

export const RENAME_PROBLEM_MESSAGES: Record<RenameProblem, MessageKey> = {
  length: 'rename.length',
  characters: 'rename.characters',
  hyphens: 'rename.hyphens',
  reserved: 'rename.reserved',
  taken: 'rename.taken',
  same: 'rename.same',
  'not-admin': 'rename.not_admin',
  'already-renamed': 'rename.already_renamed',
};

const UNIQUE_VIOLATION = '23505';

/**
 * Rename an account (product.md 4): only an active admin, only once. The
 * account's client moves with it (redirect URIs, `initiate_login_uri`, logout
 * URIs) in the same transaction, and the old name stops resolving.
 */
export async function renameAccount(
  deps: AccountDependencies,
  input: { accountId: string; profileId: string; newName: string },
): Promise<{ ok: true; name: string; previousName: string } | { ok: false; problem: RenameProblem }> {
  const checked = checkAccountName(input.newName);
  if (!checked.ok) return checked;
  try {
    return await deps.db.transaction(async (trx) => {
      // Locked, so two admins renaming at once cannot both use the one rename.
      const account = await trx('accounts').where({ id: input.accountId }).forUpdate().first<{ name: string; renamed_at: Date | null } | undefined>();
      const membership = await deps.memberships.find(input.accountId, input.profileId, trx);
      if (!account || membership?.role !== 'admin' || membership.state !== 'active') return { ok: false as const, problem: 'not-admin' as const };
      if (account.renamed_at) return { ok: false as const, problem: 'already-renamed' as const };
      if (account.name === checked.name) return { ok: false as const, problem: 'same' as const };
      if (await deps.accounts.findByName(checked.name, trx)) return { ok: false as const, problem: 'taken' as const };

      await trx('accounts').where({ id: input.accountId }).update({ name: checked.name, renamed_at: trx.fn.now() });
      const client = await deps.clients.findByAccount(input.accountId, trx);
      if (client) {
        const moved = accountClientUris(deps.accountUrlPattern, checked.name);
        // Validated as oidc-provider will read it, secret included; stored without the secret.
        await deps.validateClient({ ...(await deps.clients.findMetadata(client.client_id, trx))!, ...moved });
        await deps.clients.updateMetadata(client.client_id, { ...client.metadata, ...moved }, trx);
      }
      await deps.audit.record(
        { kind: 'account.renamed', profileId: input.profileId, accountId: input.accountId, detail: { from: account.name, to: checked.name } },
        trx,
      );
      return { ok: true as const, name: checked.name, previousName: account.name };
    });
  } catch (error) {
    // Another account took the name between the check and the update.
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) return { ok: false, problem: 'taken' };
    throw error;
  }
}
