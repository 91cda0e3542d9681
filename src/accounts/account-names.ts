import { randomInt } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const GENERATED_PREFIX = 'b24-';

/** A new account's random name (product.md 4); an admin may later rename it once. */
export function randomAccountName(): string {
  let suffix = '';
  for (let i = 0; i < 8; i++) suffix += ALPHABET[randomInt(ALPHABET.length)];
  return `${GENERATED_PREFIX}${suffix}`;
}

export const ACCOUNT_NAME_MIN = 3;
export const ACCOUNT_NAME_MAX = 50;

/**
 * Names that would pass for NetID, the network or infrastructure in an
 * account's address, and so could be used to trick people.
 */
const RESERVED = new Set([
  'admin', 'administrator', 'api', 'app', 'apps', 'auth', 'billing', 'bitrix', 'bitrix24', 'blog', 'cdn', 'dev',
  'docs', 'help', 'id', 'identity', 'login', 'mail', 'my', 'net', 'netid', 'network', 'oauth', 'official', 'root',
  'security', 'signin', 'signup', 'smtp', 'sso', 'static', 'status', 'support', 'test', 'www',
]);

export type AccountNameProblem = 'length' | 'characters' | 'hyphens' | 'reserved';

/**
 * An account's name is its address label (`{name}` in ACCOUNT_URL_PATTERN), so
 * it follows DNS label rules: lower-case letters, digits and inner hyphens.
 * Returns the normalised name or what is wrong with it.
 */
export function checkAccountName(input: string): { ok: true; name: string } | { ok: false; problem: AccountNameProblem } {
  const name = input.trim().toLowerCase();
  if (name.length < ACCOUNT_NAME_MIN || name.length > ACCOUNT_NAME_MAX) return { ok: false, problem: 'length' };
  if (!/^[a-z0-9-]+$/.test(name)) return { ok: false, problem: 'characters' };
  if (name.startsWith('-') || name.endsWith('-') || name.includes('--')) return { ok: false, problem: 'hyphens' };
  // Generated names have their own prefix, so a renamed account can never look freshly generated.
  if (RESERVED.has(name) || name.startsWith(GENERATED_PREFIX)) return { ok: false, problem: 'reserved' };
  return { ok: true, name };
}
