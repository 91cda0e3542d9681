import type { Actor } from '../db/audit.js';
import type { Database } from '../db/database.js';
import type { Profile } from '../db/profiles.js';
import type { Queries } from '../db/queries.js';
import { chooseLocale } from '../i18n/messages.js';
import { createAttemptCounter, type AttemptCounter } from '../security/rate-limits.js';

export interface ExistingProfileNoticeDependencies {
  queries: Queries;
  /** Notices already sent, counted per email address. */
  notices: AttemptCounter;
  /** Asks the delivery worker to send now rather than at its next poll. */
  wakeDelivery(): void;
}

/** One notice per address per hour: sign-up must not become a way to fill someone's inbox. */
export const createExistingProfileNotices = (db: Database): AttemptCounter => createAttemptCounter(db, 'signup-notice', 60 * 60);

/**
 * Tells the owner of `email` that someone tried to sign up with it, instead of
 * telling the person at the sign-up form. Answers whether a notice was queued;
 * the caller must answer the browser the same either way.
 */
export async function noticeExistingProfile(
  deps: ExistingProfileNoticeDependencies,
  input: { profile: Profile; email: string; browserLocale: string; actor: Actor },
): Promise<boolean> {
  // Counted before queueing, so two sign-ups at the same moment cannot both send.
  const { attempts } = await deps.notices.record(input.email);
  const send = attempts === 1;
  await deps.queries.transaction(async (queries) => {
    if (send) {
      await queries.outbox.enqueue({
        channel: 'email',
        recipient: input.email,
        template: 'existing-profile',
        locale: chooseLocale(input.profile.locale, () => input.browserLocale),
        params: {},
      });
      queries.afterCommit(deps.wakeDelivery);
    }
    await queries.audit.record({ kind: 'signup.existing_email', profileId: input.profile.id, actor: input.actor, detail: { noticeSent: send } });
  });
  return send;
}
