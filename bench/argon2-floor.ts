import argon2 from 'argon2';
import { workers } from './load.js';
import type { Measurement } from './measurement.js';
import { hashPassword } from '../src/security/passwords.js';

/**
 * How many password verifications per second this machine does at NetID's
 * own argon2id parameters (src/security/passwords.ts), `concurrency` at a
 * time. Every password sign-in costs one verification.
 *
 * With one at a time (p=1: one verification keeps one core busy) it is the
 * floor the password sign-in is measured against, the figure the performance
 * targets are set in. With many at a time it is the ceiling: libuv's thread
 * pool runs verifications on every core, and no server could sign people in
 * faster even if nothing else about a sign-in cost anything.
 */
export async function measureArgon2(seconds: number, concurrency: number): Promise<Measurement> {
  const password = 'bench pass phrase for the floor';
  const hash = await hashPassword(password);
  return workers(concurrency, seconds, async () => {
    if (!(await argon2.verify(hash, password))) throw new Error('argon2 rejected its own hash');
  });
}
