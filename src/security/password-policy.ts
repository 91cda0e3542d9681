import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * OWASP ASVS V6: at least 8 characters, at most 128 here (64 are required),
 * no composition rules, and no password from a list of common ones. The list
 * is zxcvbn-ts's ~49,000 most common passwords, compared case-insensitively.
 */
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;

const common = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));

export type PasswordProblem = 'too-short' | 'too-long' | 'common' | 'contains-identifier';

export function passwordProblem(password: string, identifiers: string[] = []): PasswordProblem | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return 'too-short';
  if (length > MAX_PASSWORD_LENGTH) return 'too-long';
  const lowered = password.toLowerCase();
  if (common.has(lowered)) return 'common';
  for (const identifier of identifiers) {
    const local = identifier.toLowerCase().split('@')[0] ?? '';
    if (local.length >= 4 && lowered === local) return 'contains-identifier';
  }
  return undefined;
}
