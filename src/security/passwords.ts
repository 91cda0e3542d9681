import argon2 from 'argon2';

/** OWASP Password Storage Cheat Sheet's argon2id baseline: m=19 MiB, t=2, p=1. */
export const PASSWORD_HASH_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19 * 1024,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, PASSWORD_HASH_OPTIONS);
}

/**
 * A hash computed once per process, verified when no profile matches, so an
 * unknown identifier costs the same time as a wrong password.
 */
let decoyHash: Promise<string> | undefined;

export interface PasswordCheck {
  valid: boolean;
  /** A new hash to store when the stored one uses older parameters. */
  rehash?: string;
}

export async function checkPassword(storedHash: string | null | undefined, password: string): Promise<PasswordCheck> {
  if (!storedHash) {
    decoyHash ??= hashPassword('netid-decoy-password');
    await argon2.verify(await decoyHash, password).catch(() => false);
    return { valid: false };
  }
  let valid = false;
  try {
    valid = await argon2.verify(storedHash, password);
  } catch {
    return { valid: false };
  }
  if (!valid) return { valid };
  // needsRehash compares the costs but not the variant, so an argon2i/argon2d hash would never move to argon2id.
  if (!storedHash.startsWith('$argon2id$') || argon2.needsRehash(storedHash, PASSWORD_HASH_OPTIONS)) {
    return { valid, rehash: await hashPassword(password) };
  }
  return { valid };
}
