import { z } from 'zod';
import { createAccount, type AccountDependencies } from '../accounts/create-account.js';
import type { Profile } from '../db/profiles.js';
import type { MessageKey } from '../i18n/messages.js';
import { hashPassword } from '../security/passwords.js';
import { passwordProblem, type PasswordProblem } from '../security/password-policy.js';
import type { AttemptCounter } from '../security/rate-limits.js';
import { nameFields } from './edit-profile.js';
import { noticeExistingProfile } from './existing-profile-notice.js';
import { normaliseEmail } from './identifier.js';
import { sendCode, type CodeDelivery } from './send-code.js';

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

export interface SignUpDependencies {
  accounts: AccountDependencies;
  codes: CodeDelivery;
  /** Notices to owners of emails someone tried to sign up with (createExistingProfileNotices). */
  notices: AttemptCounter;
}

export type SignUpResult =
  | { outcome: 'created'; profile: Profile; accountName: string }
  /** The email already belongs to a profile: nothing was created, and the owner was told by email (at most hourly). */
  | { outcome: 'email-taken'; email: string }
  | { outcome: 'invalid'; errors: SignUpErrors };

const UNIQUE_VIOLATION = '23505';

/**
 * "Create for free": a profile, its first account (the person its admin), and
 * the email confirmation code, in one transaction. An email that already
 * belongs to a profile creates nothing; the caller answers it as it answers a
 * new one, and only the owner of the address learns of the attempt.
 */
export async function signUp(
  deps: SignUpDependencies,
  input: SignUpInput,
  request: { locale: string; ip?: string | undefined },
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
  if (!parsed.success || !email || Object.keys(errors).length) return { outcome: 'invalid', errors };

  const { db, profiles } = deps.accounts;
  const { locale } = request;
  // Hashed before looking the email up: the dominant cost is then paid whether the email is new or taken.
  const passwordHash = await hashPassword(parsed.data.password);
  const taken = async (owner: Profile): Promise<SignUpResult> => {
    await noticeExistingProfile(
      { db, audit: deps.accounts.audit, notices: deps.notices, sealer: deps.codes.sealer, wakeDelivery: deps.codes.wakeDelivery },
      { profile: owner, email, browserLocale: locale, ip: request.ip },
    );
    return { outcome: 'email-taken', email };
  };

  const owner = await profiles.findByIdentifier(email);
  if (owner) return taken(owner);
  try {
    const result = await db.transaction(async (trx) => {
      const profile = await profiles.insert(
        { email, passwordHash, firstName: parsed.data.firstName, lastName: parsed.data.lastName, locale },
        trx,
      );
      const { account } = await createAccount(deps.accounts, profile.id, trx);
      await sendCode(deps.codes, { profileId: profile.id, purpose: 'confirm-email', target: email, channel: 'email', locale }, trx);
      await deps.accounts.audit.record({ kind: 'profile.signed_up', profileId: profile.id, accountId: account.id }, trx);
      return { outcome: 'created' as const, profile, accountName: account.name };
    });
    deps.codes.wakeDelivery();
    return result;
  } catch (error) {
    if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
    // Another sign-up with the same email committed first.
    const winner = await profiles.findByIdentifier(email);
    if (!winner) throw error;
    return taken(winner);
  }
}
