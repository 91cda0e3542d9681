import type { Channel } from '../delivery/outbox.js';
import type { Queries } from '../db/queries.js';
import type { CodeRequest, IssueResult } from './one-time-codes.js';

/**
 * Issues a one-time code and queues its message in one transaction (the
 * caller's, if `queries` are in one): either both exist or neither. A code
 * that reaches nobody (recovery for an identifier of nobody) is issued and
 * counted the same, and no message is queued. Delivery is woken once the
 * change has committed.
 */
export async function sendCode(
  queries: Queries,
  wakeDelivery: () => void,
  input: CodeRequest & { channel: Channel; locale: string },
): Promise<IssueResult> {
  return queries.transaction(async (inner) => {
    const result = await inner.codes.issue(input);
    const recipient = input.purpose === 'recover-access' ? input.reaches?.target : input.target;
    if (result.issued && result.code !== undefined && recipient) {
      await inner.outbox.enqueue({ channel: input.channel, recipient, template: input.purpose, locale: input.locale, params: { code: result.code } });
      inner.afterCommit(wakeDelivery);
    }
    return result;
  });
}
