import type { Database } from '../db/database.js';
import { enqueueMessage, type Channel } from '../delivery/outbox.js';
import type { CodePurpose, IssueResult, OneTimeCodes } from './one-time-codes.js';

export interface CodeDelivery {
  db: Database;
  codes: OneTimeCodes;
  /** Asks the delivery worker to send now rather than at its next poll. */
  wakeDelivery(): void;
}

/**
 * Issues a one-time code and queues its message in one transaction: either
 * both exist or neither. Within a caller's transaction the caller wakes delivery after commit.
 */
export async function sendCode(
  deps: CodeDelivery,
  input: { profileId: string; purpose: CodePurpose; target: string; channel: Channel; locale: string; options?: Record<string, unknown> },
  trx?: Database,
): Promise<IssueResult> {
  const run = async (t: Database): Promise<IssueResult> => {
    const result = await deps.codes.issue(input, t);
    if (result.issued) {
      await enqueueMessage(t, {
        channel: input.channel,
        recipient: input.target,
        template: input.purpose,
        locale: input.locale,
        params: { code: result.code },
      });
    }
    return result;
  };
  if (trx) return run(trx);
  const result = await deps.db.transaction(run);
  if (result.issued) deps.wakeDelivery();
  return result;
}
