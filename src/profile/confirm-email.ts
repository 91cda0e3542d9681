import type { Actor } from '../db/audit.js';
import type { Profile } from '../db/profiles.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import type { IssueResult } from './one-time-codes.js';
import type { ProfileServiceDependencies } from './profile-service.js';
import { sendCode } from './send-code.js';

export type CodeProblem = 'code-format' | 'code-wrong' | 'code-expired' | 'code-exhausted';

/** Six digits, spaces allowed: anything else is refused before it costs one of the code's tries. */
export const isCodeShaped = (code: string) => /^\d{6}$/.test(code.replace(/\s+/g, ''));

/**
 * The one-time code that confirms a profile's email at its first sign-in
 * (product.md 2): the address the code went to becomes confirmed, if it is
 * still the profile's email, and every open invitation to it makes the
 * profile a member of the inviting account; all in one transaction.
 */
export async function confirmEmail(
  deps: ProfileServiceDependencies,
  profileId: string,
  code: string,
  actor: Actor,
): Promise<Outcome<{ profile: Profile }, CodeProblem | 'profile-not-found'>> {
  if (!isCodeShaped(code)) return refuse('code-format');
  const confirmed = await deps.queries.transaction(async (queries): Promise<Outcome<object, CodeProblem>> => {
    const verified = await queries.codes.verify({ profileId, purpose: 'confirm-email', code });
    if (!verified.valid) return refuse(`code-${verified.reason}`);
    if (await queries.profiles.confirmContact(profileId, 'email', verified.target)) {
      await deps.memberships.acceptInvitations(queries, profileId, verified.target, actor);
    }
    await queries.audit.record({ kind: 'profile.email_confirmed', profileId, actor });
    return ok({});
  });
  if (!confirmed.ok) return confirmed;
  const profile = await deps.queries.profiles.findById(profileId);
  return profile ? ok({ profile }) : refuse('profile-not-found');
}

/** Sends (or, within the wait between codes, does not send again) the code that confirms the profile's email. */
export function sendEmailConfirmation(deps: ProfileServiceDependencies, profile: Profile & { email: string }, locale: string): Promise<IssueResult> {
  return sendCode(deps.queries, deps.wakeDelivery, { profileId: profile.id, purpose: 'confirm-email', target: profile.email, channel: 'email', locale });
}
