import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (private signing keys, client secrets, cookie keys) are sealed
 * with AES-256-GCM under the key-encryption key from the environment, so a copy
 * of the database alone does not let anyone sign tokens or impersonate a client.
 * Format: "v1.<iv>.<tag>.<ciphertext>", each part base64url.
 */
export interface Sealer {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

export function createSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new Error('the key-encryption key must be 32 bytes');
  // Once, not per call: from raw bytes Node builds a new key object for every cipher, and every
  // refresh seals its answer (src/oidc/refresh-reuse.ts).
  const keyObject = createSecretKey(key);
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keyObject, iv);
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), data].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed) {
      const [version, iv, tag, data] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed NetID secret');
      const decipher = createDecipheriv('aes-256-gcm', keyObject, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new Error('cannot decrypt a stored secret: KEY_ENCRYPTION_KEY differs from the one it was sealed with');
      }
    },
  };
}
