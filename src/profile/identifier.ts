import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export type Identifier = { kind: 'email'; value: string } | { kind: 'phone'; value: string };

// Deliberately loose: the confirmation code, not a pattern, proves an address works.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Turns what a person typed at the sign-in screen into the stored form:
 * a lower-cased email, or a phone number in E.164 (any common way of writing
 * it, with the installation's default region for numbers without a +).
 */
export function parseIdentifier(input: string, defaultRegion?: string): Identifier | undefined {
  const text = input.trim();
  if (!text || text.length > 254) return undefined;
  if (text.includes('@')) {
    return EMAIL.test(text) ? { kind: 'email', value: text.toLowerCase() } : undefined;
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
