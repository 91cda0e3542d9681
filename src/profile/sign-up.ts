import { z } from 'zod';
import { createAccount, type AccountDependencies } from '../accounts/create-account.js';
import type { Profile } from '../db/profiles.js';
import type { MessageKey } from '../i18n/messages.js';
import { hashPassword } from '../security/passwords.js';
import { passwordProblem, type PasswordProblem } from '../security/password-policy.js';
import { nameFields } from './edit-profile.js';
import { normaliseEmail } from './identifier.js';
import { sendCode, type CodeDelivery } from './send-code.js';

export const PASSWORD_PROBLEM_MESSAGES: Record<PasswordProblem, MessageKey> = {
  'too-short': 'password.too_short',
  'too-long': 'password.too_long',
  common: 'password.common',
  'contains-identifier': 'password.contains_identifier',
};

const signUpForm = z.object({
  ...nameFields,
  email: z.string().trim().max(254, 'signup.email_invalid'),
  password: z.string(),
});

export type SignUpInput = z.input<typeof signUpForm>;
export type SignUpErrors = Partial<Record<keyof SignUpInput, MessageKey>>;

export type SignUpResult = { ok: true; profile: Profile; accountName: string } | { ok: false; errors: SignUpErrors };

const UNIQUE_VIOLATION = '23505';

/**
 * "Create for free": a profile, its first account (the person its admin), and
 * the email confirmation code, in one transaction.
 */
export async function signUp(
  deps: { accounts: AccountDependencies; codes: CodeDelivery },
  input: SignUpInput,
  locale: string,
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
  if (!parsed.success || !email || Object.keys(errors).length) return { ok: false, errors };

  const { db } = deps.accounts;
  const passwordHash = await hashPassword(parsed.data.password);
  try {
    const result = await db.transaction(async (trx) => {
      const profile = await deps.accounts.profiles.insert(
        { email, passwordHash, firstName: parsed.data.firstName, lastName: parsed.data.lastName, locale },
        trx,
      );
      const { account } = await createAccount(deps.accounts, profile.id, trx);
      await sendCode(deps.codes, { profileId: profile.id, purpose: 'confirm-email', target: email, channel: 'email', locale }, trx);
      await deps.accounts.audit.record({ kind: 'profile.signed_up', profileId: profile.id, accountId: account.id }, trx);
      return { ok: true as const, profile, accountName: account.name };
    });
    deps.codes.wakeDelivery();
    return result;
  } catch (error) {
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) return { ok: false, errors: { email: 'signup.email_taken' } };
    throw error;
  }
}
