import type { Metrics } from '../operations/metrics.js';
import type { OneTimeCodes } from './one-time-codes.js';

/**
 * The one-time codes, counted for metrics as they are issued or refused and
 * as typed codes are accepted or turned down, whatever page or step asked.
 */
export function countedCodes(codes: OneTimeCodes, metrics: Pick<Metrics, 'oneTimeCodes' | 'rateLimitRefusals'>): OneTimeCodes {
  return {
    ...codes,
    async issue(request, trx) {
      const result = await codes.issue(request, trx);
      metrics.oneTimeCodes.inc({ purpose: request.purpose, outcome: result.issued ? 'issued' : 'refused' });
      if (!result.issued) metrics.rateLimitRefusals.inc({ limit: 'code_send' });
      return result;
    },
    async verify(input, trx) {
      const result = await codes.verify(input, trx);
      metrics.oneTimeCodes.inc({ purpose: input.purpose, outcome: result.valid ? 'accepted' : result.reason });
      return result;
    },
  };
}
