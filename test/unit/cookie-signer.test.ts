import { describe, expect, test } from '@jest/globals';
import { createCookieSigner } from '../../src/security/cookie-signer.js';

// Digests keygrip 1.1 gives for the same keys and data: a browser's cookies from before stay signed.
const DATA = '_session=4Q8x2v';
const BY_FIRST_KEY = 'ml5tQoCQJQyBOMGWDne-DaSOkCw';
const BY_SECOND_KEY = 'ZfnCR8BI6mVnfWSD7jv39n-pMTI';

describe('the cookie signer', () => {
  const signer = createCookieSigner(['old cookie key', 'another']);

  test('signs with the first key as keygrip did', () => {
    expect(signer.sign(DATA)).toBe(BY_FIRST_KEY);
    expect(createCookieSigner([Buffer.from('another')]).sign(DATA)).toBe(BY_SECOND_KEY);
  });

  test('knows which key signed a cookie, so one signed before a key rotation is still taken', () => {
    expect(signer.index(DATA, BY_FIRST_KEY)).toBe(0);
    expect(signer.index(DATA, BY_SECOND_KEY)).toBe(1);
    expect(signer.verify(DATA, BY_SECOND_KEY)).toBe(true);
  });

  test('refuses a digest of other data, a changed one, a truncated one, and anything else', () => {
    for (const digest of [signer.sign('_session=other'), `${BY_FIRST_KEY.slice(0, -1)}A`, BY_FIRST_KEY.slice(0, 10), '', 'é'.repeat(27), `${BY_FIRST_KEY}=`]) {
      expect([digest, signer.index(DATA, digest)]).toEqual([digest, -1]);
      expect(signer.verify(DATA, digest)).toBe(false);
    }
  });

  test('needs a key', () => {
    expect(() => createCookieSigner([])).toThrow('at least one');
  });
});
