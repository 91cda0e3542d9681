import type { Database } from '../db/database.js';
import { enqueueMessage, type Channel } from '../delivery/outbox.js';
import type { Sealer } from '../security/sealing.js';
import type { CodeRequest, IssueResult, OneTimeCodes } from './one-time-codes.js';

export interface CodeDelivery {
  db: Database;
  codes: OneTimeCodes;
  /** Seals the queued messages' params (the codes) at rest. */
  sealer: Sealer;
  /** Asks the delivery worker to send now rather than at its next poll. */
  wakeDelivery(): void;
}

/**
 * Issues a one-time code and queues its message in one transaction: either
 * both exist or neither. A code that reaches nobody (recovery for an
 * identifier of nobody) is issued and counted the same, and no message is
 * queued. Within a caller's transaction the caller wakes delivery after commit.
 */
export async function sendCode(
  deps: CodeDelivery,
  input: CodeRequest & { channel: Channel; locale: string },
  trx?: Database,
): Promise<IssueResult> {
  const run = async (t: Database): Promise<IssueResult> => {
    const result = await deps.codes.issue(input, t);
    const recipient = input.purpose === 'recover-access' ? input.reaches?.target : input.target;
    if (result.issued && result.code !== undefined && recipient) {
      await enqueueMessage(t, deps.sealer, {
        channel: input.channel,
        recipient,
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
