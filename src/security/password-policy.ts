import { dictionary } from '@zxcvbn-ts/language-common';
import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * OWASP ASVS V6: at least 8 characters, at most 128 here (64 are required),
 * no composition rules, and no password from a list of common ones. The list
 * is zxcvbn-ts's ~49,000 most common passwords, compared case-insensitively.
 * NIST SP 800-63B-4 3.1.1.2 adds context-specific words: the profile's own
 * identifiers and the service's names.
 */
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;

/**
 * A password is refused when, once every context word is taken out (ignoring
 * case and everything but letters and digits), fewer letters and digits than
 * this remain: "Bitrix24!", "ada@example.com2024" and "+49 151 1234 5678" are.
 */
export const MIN_OWN_CHARACTERS = 4;

/** The names a person sees on these pages, in both languages: the first words anyone guessing here would try. */
const SERVICE_WORDS = ['bitrix24', 'bitrix', 'битрикс24', 'битрикс', 'netid', 'network'];

/** Context words shorter than this are left alone: taking "al" out of every password would refuse good ones. */
const MIN_WORD_LENGTH = 3;

const common = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));

export type PasswordProblem = 'too-short' | 'too-long' | 'common' | 'context-words';

/** Lower case, letters and digits only: how a password and its context words are compared. */
const compact = (text: string) => text.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/**
 * The words to take out for `identifiers` (normalised emails and E.164
 * phones): a whole email and its name before the @, and a phone number
 * however it is written (with its country code, or nationally with or
 * without the trunk prefix), plus the service's names. Longest first, so
 * "bitrix24" goes before "bitrix" can leave its "24" behind.
 */
export function contextWords(identifiers: string[]): string[] {
  const words = new Set(SERVICE_WORDS);
  for (const identifier of identifiers) {
    words.add(compact(identifier));
    if (identifier.includes('@')) {
      words.add(compact(identifier.slice(0, identifier.lastIndexOf('@'))));
      continue;
    }
    const phone = parsePhoneNumberFromString(identifier);
    if (phone) {
      words.add(compact(phone.nationalNumber));
      words.add(compact(phone.formatNational()));
    }
  }
  return [...words].filter((word) => word.length >= MIN_WORD_LENGTH).sort((a, b) => b.length - a.length);
}

/** True when the password is context words plus fewer than MIN_OWN_CHARACTERS letters or digits of its own. */
export function isBuiltFromContext(password: string, identifiers: string[] = []): boolean {
  let rest = compact(password);
  for (const word of contextWords(identifiers)) rest = rest.split(word).join('');
  return [...rest].length < MIN_OWN_CHARACTERS;
}

export function passwordProblem(password: string, identifiers: string[] = []): PasswordProblem | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return 'too-short';
  if (length > MAX_PASSWORD_LENGTH) return 'too-long';
  if (common.has(password.toLowerCase())) return 'common';
  if (isBuiltFromContext(password, identifiers)) return 'context-words';
  return undefined;
}
