import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { Sealer } from '../security/sealing.js';
import { claimDueMessages, markFailedAttempt, markSent, openMessage, type ClaimedRow } from './outbox.js';
import { renderEmail, renderSms } from './render-message.js';
import type { Senders } from './senders.js';

export interface DeliveryWorkerOptions {
  pollMilliseconds?: number;
  /** How long a claimed message is reserved for this worker while it sends. */
  leaseSeconds?: number;
  maxAttempts?: number;
  /** Seconds before the next try after `attempts` failed ones; tests shorten it. */
  backoff?: (attempts: number) => number;
}

/** Seconds before the next try: 5 s doubling up to 15 minutes. */
export function backoffSeconds(attempts: number): number {
  return Math.min(5 * 2 ** Math.max(0, attempts - 1), 15 * 60);
}

/**
 * Delivers the outbox: polls for due messages (and wakes at once when a
 * request has just queued one), retries failures with backoff, and gives up
 * only after many attempts. A mail server that is down loses nothing.
 */
export function startDeliveryWorker(db: Database, sealer: Sealer, senders: Senders, logger: Logger, options: DeliveryWorkerOptions = {}) {
  const poll = options.pollMilliseconds ?? 2000;
  const lease = options.leaseSeconds ?? 60;
  const maxAttempts = options.maxAttempts ?? 20;
  const backoff = options.backoff ?? backoffSeconds;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;

  async function deliver(row: ClaimedRow): Promise<void> {
    try {
      // Opened only now, just before rendering, and never kept.
      const message = openMessage(sealer, row);
      if (message.channel === 'email') await senders.email(renderEmail(message));
      else await senders.sms(renderSms(message));
      await markSent(db, row.id);
      logger.info({ outbox: row.id, channel: row.channel, template: row.template }, 'message delivered');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const retry = row.attempts >= maxAttempts ? undefined : backoff(row.attempts);
      await markFailedAttempt(db, row.id, reason.slice(0, 500), retry);
      logger.warn({ outbox: row.id, channel: row.channel, attempts: row.attempts, retryInSeconds: retry, reason }, 'message delivery failed');
    }
  }

  async function cycle(): Promise<void> {
    do {
      again = false;
      try {
        for (;;) {
          const batch = await claimDueMessages(db, 10, lease);
          if (batch.length === 0 || stopped) break;
          for (const row of batch) await deliver(row);
        }
      } catch (error) {
        if (!stopped) logger.warn({ err: error }, 'outbox polling failed; will retry');
      }
    } while (again && !stopped);
  }

  const wake = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = cycle().finally(() => {
      running = undefined;
    });
  };
  const timer = setInterval(wake, poll);
  timer.unref();
  wake();

  return {
    /** Asks for a delivery round now, e.g. right after a request queued a code. */
    wake,
    /** Resolves when the current round (if any) is over; for tests and shutdown. */
    async idle(): Promise<void> {
      while (running) await running;
    },
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

export type DeliveryWorker = ReturnType<typeof startDeliveryWorker>;
