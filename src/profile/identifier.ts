import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { isSingleLineText } from '../security/control-characters.js';

export type Identifier = { kind: 'email'; value: string } | { kind: 'phone'; value: string };

/**
 * A valid email address as HTML's `<input type=email>` defines it (WHATWG, a
 * practical subset of RFC 5322: no quoted local parts, no comments, an ASCII
 * domain of DNS labels), kept by zod. The domain must also have a dot: NetID
 * sends real mail, and `user@localhost` reaches nobody. The confirmation code,
 * not a pattern, proves that an address works.
 */
const emailAddress = z.email({ pattern: z.regexes.html5Email });
const MAX_LOCAL_PART = 64;
const MAX_EMAIL = 254;

function isEmailAddress(text: string): boolean {
  const at = text.lastIndexOf('@');
  return (
    text.length <= MAX_EMAIL &&
    at > 0 &&
    at <= MAX_LOCAL_PART &&
    text.slice(at + 1).includes('.') &&
    emailAddress.safeParse(text).success
  );
}

/**
 * Turns what a person typed at the sign-in screen into the stored form:
 * a lower-cased email, or a phone number in E.164 (any common way of writing
 * it, with the installation's default region for numbers without a +).
 */
export function parseIdentifier(input: string, defaultRegion?: string): Identifier | undefined {
  const text = input.trim();
  if (!text || text.length > MAX_EMAIL || !isSingleLineText(text)) return undefined;
  if (text.includes('@')) {
    return isEmailAddress(text) ? { kind: 'email', value: text.toLowerCase() } : undefined;
  }
  if (!/^[+\d\s().-]+$/.test(text)) return undefined;
  const phone = parsePhoneNumberFromString(text, defaultRegion as CountryCode | undefined);
  return phone?.isValid() ? { kind: 'phone', value: phone.number } : undefined;
}

export function normaliseEmail(input: string): string | undefined {
  const parsed = parseIdentifier(input);
  return parsed?.kind === 'email' ? parsed.value : undefined;
}

export function normalisePhone(input: string, defaultRegion?: string): string | undefined {
  const parsed = parseIdentifier(input, defaultRegion);
  return parsed?.kind === 'phone' ? parsed.value : undefined;
}
