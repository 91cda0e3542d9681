import type { Actor } from '../db/audit.js';
import type { Queries } from '../db/queries.js';
import { ok, refuse, type Outcome, type ProblemTable } from '../outcome.js';
import { KeyRotationError, type SigningKeyStore, type SigningKeySummary } from './signing-keys.js';

export type KeyProblem = KeyRotationError['problem'];

export const KEY_PROBLEMS: ProblemTable<KeyProblem> = {
  'next-key-exists': { status: 409, messageKey: 'problem.next_key_exists' },
  'no-next-key': { status: 409, messageKey: 'problem.no_next_key' },
  'previous-key-exists': { status: 409, messageKey: 'problem.previous_key_exists' },
};

/**
 * The signing keys' rotation, one step at a time (add a next key, promote it,
 * retire the previous one), each recorded in the audit trail. A step takes
 * effect in a process when it (re)starts: see the README's key rotation.
 */
export function createKeyService(deps: { keys: SigningKeyStore; queries: Queries }) {
  async function step<T extends object>(kind: string, actor: Actor, run: () => Promise<T>): Promise<Outcome<T, KeyProblem>> {
    let done: T;
    try {
      done = await run();
    } catch (error) {
      if (error instanceof KeyRotationError) return refuse(error.problem, { detail: error.message });
      throw error;
    }
    await deps.queries.audit.record({ kind, actor });
    return ok(done);
  }

  return {
    list: (): Promise<SigningKeySummary[]> => deps.keys.list(),
    addNext: (actor: Actor) => step('keys.next_added', actor, async () => ({ added: await deps.keys.addNext() })),
    promote: (actor: Actor) => step('keys.promoted', actor, async () => (await deps.keys.promote(), {})),
    retire: (actor: Actor) => step('keys.retired', actor, async () => ({ retired: await deps.keys.retire() })),
  };
}

export type KeyService = ReturnType<typeof createKeyService>;
