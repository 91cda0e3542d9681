import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** What Koa's cookies (and so oidc-provider's) ask of the keys that sign them: keygrip's interface. */
export interface CookieSigner {
  sign(data: string): string;
  verify(data: string, digest: string): boolean;
  /** The position of the key that made `digest`, or -1 when none did. */
  index(data: string, digest: string): number;
}

/**
 * Signs cookies exactly as keygrip does by default (HMAC-SHA1, base64url
 * without padding, the first key signing, every key checking), so cookies
 * signed before stay good, but with the keys made into KeyObjects once and
 * Node's constant-time comparison. keygrip's comparison (tsscmp) computes two
 * more HMACs under a fresh random key on every check, and Node 24 is slow to
 * take a string or Buffer as an HMAC key: together about a twentieth of the
 * CPU of each browser request, for a comparison timingSafeEqual already
 * makes in constant time. A digest's length is public, so it is compared
 * first.
 */
export function createCookieSigner(keys: readonly (string | Buffer)[]): CookieSigner {
  if (keys.length === 0) throw new Error('cookies need at least one signing key');
  const keyObjects: KeyObject[] = keys.map((key) => createSecretKey(typeof key === 'string' ? Buffer.from(key, 'utf8') : key));
  const signWith = (key: KeyObject, data: string) => createHmac('sha1', key).update(data).digest('base64url');

  const index = (data: string, digest: string): number => {
    const given = Buffer.from(String(digest));
    for (const [position, key] of keyObjects.entries()) {
      const expected = Buffer.from(signWith(key, String(data)));
      if (given.length === expected.length && timingSafeEqual(given, expected)) return position;
    }
    return -1;
  };
  return {
    sign: (data) => signWith(keyObjects[0]!, String(data)),
    verify: (data, digest) => index(data, digest) > -1,
    index,
  };
}
