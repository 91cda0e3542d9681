import { describe, expect, test } from '@jest/globals';
import argon2 from 'argon2';
import { checkPassword, hashPassword, PASSWORD_HASH_OPTIONS } from '../../src/security/passwords.js';

const PASSWORD = 'correct horse battery staple';
const OWASP = { type: 'argon2id', m: 19456, t: 2, p: 1 };

/** The algorithm and cost parameters recorded in a PHC string (the library orders them its own way). */
function parameters(hash: string): { type: string; m: number; t: number; p: number } {
  const [, type, , params] = hash.split('$');
  const values = Object.fromEntries(params!.split(',').map((pair) => pair.split('=') as [string, string]));
  return { type: type!, m: Number(values.m), t: Number(values.t), p: Number(values.p) };
}

describe('checkPassword', () => {
  test('accepts the password the hash was made from, with nothing to rehash', async () => {
    const stored = await hashPassword(PASSWORD);
    expect(await checkPassword(stored, PASSWORD)).toEqual({ valid: true });
  });

  test.each([
    ['another password', 'correct horse battery stapler'],
    ['a different case', PASSWORD.toUpperCase()],
    ['an empty password', ''],
  ])('refuses %s', async (_, attempt) => {
    const stored = await hashPassword(PASSWORD);
    expect(await checkPassword(stored, attempt)).toEqual({ valid: false });
  });

  test('stores hashes as argon2id with the OWASP parameters', async () => {
    const stored = await hashPassword(PASSWORD);
    expect(parameters(stored)).toEqual(OWASP);
    expect(PASSWORD_HASH_OPTIONS.type).toBe(argon2.argon2id);
  });

  test('hands back a current hash when the stored one used weaker parameters', async () => {
    const weak = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });

    const result = await checkPassword(weak, PASSWORD);

    expect(result.valid).toBe(true);
    expect(result.rehash).toBeDefined();
    expect(parameters(result.rehash!)).toEqual(OWASP);
    // The replacement must let the same person sign in next time, without asking for another upgrade.
    expect(await checkPassword(result.rehash, PASSWORD)).toEqual({ valid: true });
  });

  test('hands back an argon2id hash when the stored one is another argon2 variant with the same costs', async () => {
    const argon2i = await argon2.hash(PASSWORD, { type: argon2.argon2i, memoryCost: 19456, timeCost: 2, parallelism: 1 });

    const result = await checkPassword(argon2i, PASSWORD);

    expect(result.valid).toBe(true);
    expect(parameters(result.rehash!)).toEqual(OWASP);
  });

  test('offers no rehash for a wrong password against a weak hash', async () => {
    const weak = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(await checkPassword(weak, 'not the password')).toEqual({ valid: false });
  });

  test.each([
    ['no profile (undefined hash)', undefined],
    ['a profile without a password (null hash)', null],
    ['an empty hash', ''],
  ])('refuses every password for %s', async (_, stored) => {
    expect(await checkPassword(stored, PASSWORD)).toEqual({ valid: false });
    expect(await checkPassword(stored, '')).toEqual({ valid: false });
  });

  test('refuses a stored value that is not an argon2 hash instead of throwing', async () => {
    expect(await checkPassword('plain-text-password', 'plain-text-password')).toEqual({ valid: false });
    expect(await checkPassword('$2b$10$abcdefghijklmnopqrstuu', PASSWORD)).toEqual({ valid: false });
  });
});
