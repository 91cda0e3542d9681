import { z } from 'zod';
import type { Actor } from '../db/audit.js';
import type { Profile } from '../db/profiles.js';
import type { MessageKey } from '../i18n/messages.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import { hashPassword } from '../security/passwords.js';
import { passwordProblem, type PasswordProblem } from '../security/password-policy.js';
import { nameFields } from './edit-profile.js';
import { noticeExistingProfile } from './existing-profile-notice.js';
import { normaliseEmail } from './identifier.js';
import type { ProfileServiceDependencies } from './profile-service.js';
import { sendCode } from './send-code.js';

export const PASSWORD_PROBLEM_MESSAGES: Record<PasswordProblem, MessageKey> = {
  'too-short': 'password.too_short',
  'too-long': 'password.too_long',
  common: 'password.common',
  'context-words': 'password.context_words',
};

const signUpForm = z.object({
  ...nameFields,
  email: z.string().trim().max(254, 'signup.email_invalid'),
  password: z.string(),
});

export type SignUpInput = z.input<typeof signUpForm>;
export type SignUpErrors = Partial<Record<keyof SignUpInput, MessageKey>>;

export type SignUpResult = Outcome<
  | { outcome: 'created'; profile: Profile; accountName: string | undefined }
  /** The email already belongs to a profile: nothing was created, and the owner was told by email (at most hourly). */
  | { outcome: 'email-taken'; email: string },
  'form-invalid'
>;

const UNIQUE_VIOLATION = '23505';

/**
 * "Create for free": a profile, its first account (the person its admin), and
 * the email confirmation code, in one transaction. Someone signing up through
 * an invitation's link joins the inviting account instead (once the email is
 * confirmed) and gets no account of their own. An email that already belongs
 * to a profile creates nothing; the caller answers it as it answers a new one,
 * and only the owner of the address learns of the attempt.
 */
export async function signUp(
  deps: ProfileServiceDependencies,
  input: SignUpInput,
  request: { locale: string; actor: Actor; invited?: boolean },
): Promise<SignUpResult> {
  const parsed = signUpForm.safeParse(input);
  const errors: SignUpErrors = {};
  if (!parsed.success) {
    for (const issue of parsed.error.issues) errors[issue.path[0] as keyof SignUpInput] ??= issue.message as MessageKey;
  }
  const email = normaliseEmail(input.email);
  if (!email) errors.email ??= 'signup.email_invalid';
  const problem = passwordProblem(input.password, email ? [email] : []);
  if (problem) errors.password = PASSWORD_PROBLEM_MESSAGES[problem];
  if (!parsed.success || !email || Object.keys(errors).length) return refuse('form-invalid', { fields: errors });

  const { locale, actor } = request;
  // Hashed before looking the email up: the dominant cost is then paid whether the email is new or taken.
  const passwordHash = await hashPassword(parsed.data.password);
  const taken = async (owner: Profile): Promise<SignUpResult> => {
    await noticeExistingProfile(deps, { profile: owner, email, browserLocale: locale, actor });
    return ok({ outcome: 'email-taken' as const, email });
  };

  const owner = await deps.queries.profiles.findByIdentifier(email);
  if (owner) return taken(owner);
  try {
    return await deps.queries.transaction(async (queries) => {
      const profile = await queries.profiles.insert({ email, passwordHash, firstName: parsed.data.firstName, lastName: parsed.data.lastName, locale });
      const account = request.invited ? undefined : await deps.accounts.createIn(queries, profile.id, { ...actor, kind: 'profile', profileId: profile.id });
      await sendCode(queries, deps.wakeDelivery, { profileId: profile.id, purpose: 'confirm-email', target: email, channel: 'email', locale });
      await queries.audit.record({
        kind: 'profile.signed_up',
        profileId: profile.id,
        accountId: account?.ok ? account.account.id : null,
        actor: { ...actor, kind: 'profile', profileId: profile.id },
      });
      return ok({ outcome: 'created' as const, profile, accountName: account?.ok ? account.account.name : undefined });
    });
  } catch (error) {
    if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
    // Another sign-up with the same email committed first.
    const winner = await deps.queries.profiles.findByIdentifier(email);
    if (!winner) throw error;
    return taken(winner);
  }
}
