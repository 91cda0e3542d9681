import { randomBytes } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { createSealer } from '../../src/security/sealing.js';

const WRONG_KEY = /KEY_ENCRYPTION_KEY differs from the one it was sealed with/;

/** Flips one bit of one base64url part of a sealed value, keeping it well-formed. */
function tamper(sealed: string, part: 1 | 2 | 3): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('createSealer', () => {
  const key = randomBytes(32);
  const sealer = createSealer(key);

  test.each([
    ['a client secret', 'Zq3-8yN_client-secret'],
    ['an empty string', ''],
    ['text outside ASCII', 'ключ подписи 🔑'],
    ['a private JWK', JSON.stringify({ kty: 'EC', crv: 'P-256', d: 'x'.repeat(43) })],
  ])('opens what it sealed: %s', (_, plaintext) => {
    expect(sealer.open(sealer.seal(plaintext))).toBe(plaintext);
  });

  test('a sealer built later from the same key opens it, as after a restart', () => {
    const sealed = sealer.seal('signing key');
    expect(createSealer(Buffer.from(key)).open(sealed)).toBe('signing key');
  });

  test('does not show the secret in the sealed form', () => {
    const sealed = sealer.seal('visible-secret-value');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]*$/);
    expect(sealed).not.toContain('visible-secret-value');
    expect(Buffer.from(sealed.split('.')[3]!, 'base64url').toString('utf8')).not.toContain('visible');
  });

  test('seals the same secret differently each time', () => {
    const sealed = Array.from({ length: 5 }, () => sealer.seal('same secret'));
    expect(new Set(sealed).size).toBe(5);
    for (const s of sealed) expect(sealer.open(s)).toBe('same secret');
  });

  test('refuses to open with a different key, saying which setting is at fault', () => {
    const sealed = sealer.seal('client secret');
    expect(() => createSealer(randomBytes(32)).open(sealed)).toThrow(WRONG_KEY);
  });

  test.each([
    ['the ciphertext', 3],
    ['the authentication tag', 2],
    ['the nonce', 1],
  ] as const)('refuses a value whose %s was altered', (_, part) => {
    const sealed = sealer.seal('client secret');
    expect(() => sealer.open(tamper(sealed, part))).toThrow(WRONG_KEY);
  });

  test.each([
    ['plain text', 'client secret'],
    ['another format version', 'v2.aaaa.bbbb.cccc'],
    ['a value with parts missing', 'v1.aaaa'],
  ])('refuses %s as not sealed by NetID', (_, value) => {
    expect(() => sealer.open(value)).toThrow('not a sealed NetID secret');
  });

  test.each([16, 31, 33, 64])('refuses a %i-byte key', (length) => {
    expect(() => createSealer(randomBytes(length))).toThrow('the key-encryption key must be 32 bytes');
  });
});
