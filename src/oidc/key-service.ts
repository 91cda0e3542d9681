import type { Actor } from '../db/audit.js';
import type { Queries } from '../db/queries.js';
import { ok, refuse, type Outcome, type ProblemTable } from '../outcome.js';
import { KeyRotationError, type SigningKeySummary } from './signing-keys.js';

export type KeyProblem = KeyRotationError['problem'];

export const KEY_PROBLEMS: ProblemTable<KeyProblem> = {
  'next-key-exists': { status: 409, messageKey: 'problem.next_key_exists' },
  'no-next-key': { status: 409, messageKey: 'problem.no_next_key' },
  'previous-key-exists': { status: 409, messageKey: 'problem.previous_key_exists' },
};

/** The rotation's steps, in their order. */
export type KeyStep = 'add-next' | 'promote' | 'retire';

/**
 * What an operator does after each step, before the next one: every process
 * loads the keys at start, so each step needs a rolling restart, and the
 * next one must wait until nobody relies on what the step changed. The
 * command line and the API word `then` as their own command or call.
 */
export const AFTER_KEY_STEP: Record<KeyStep, { wait: string; then: KeyStep | undefined }> = {
  'add-next': { wait: 'roll every instance, wait for relying parties to refresh JWKS', then: 'promote' },
  promote: { wait: 'roll every instance; wait until tokens signed by the previous key have expired (an hour)', then: 'retire' },
  retire: { wait: 'roll every instance', then: undefined },
};

/**
 * The signing keys' rotation, one step at a time (add a next key, promote it,
 * retire the previous one), each stored together with its record in the
 * audit trail, in the caller's transaction when there is one. A step takes
 * effect in a process when it (re)starts: see the README's key rotation.
 */
export function createKeyService(deps: { queries: Queries }) {
  function step<T extends object>(kind: string, actor: Actor, run: (queries: Queries) => Promise<T>): Promise<Outcome<T, KeyProblem>> {
    return deps.queries.transaction(async (queries) => {
      let done: T;
      try {
        done = await run(queries);
      } catch (error) {
        if (error instanceof KeyRotationError) return refuse(error.problem, { detail: error.message });
        throw error;
      }
      await queries.audit.record({ kind, actor });
      return ok(done);
    });
  }

  return {
    list: (): Promise<SigningKeySummary[]> => deps.queries.signingKeys.list(),
    addNext: (actor: Actor) => step('keys.next_added', actor, async (queries) => ({ added: await queries.signingKeys.addNext() })),
    promote: (actor: Actor) => step('keys.promoted', actor, async (queries) => (await queries.signingKeys.promote(), {})),
    retire: (actor: Actor) => step('keys.retired', actor, async (queries) => ({ retired: await queries.signingKeys.retire() })),
  };
}

export type KeyService = ReturnType<typeof createKeyService>;
