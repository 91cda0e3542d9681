import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Database } from '../db/database.js';
import type { Sealer } from '../security/sealing.js';

/** RS256 is what every relying party supports; ES256 and EdDSA are offered to those that ask. */
export const SIGNING_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
export type SigningKeyState = 'next' | 'current' | 'previous' | 'retired';

export interface SigningKeySummary {
  kid: string;
  alg: SigningAlgorithm;
  state: SigningKeyState;
  created_at: Date;
  promoted_at: Date | null;
  retired_at: Date | null;
}

interface SigningKeyRow extends SigningKeySummary {
  public_jwk: JWK;
  private_jwk_sealed: string;
}

/** A rotation step asked out of order; `problem` names which (KEY_PROBLEMS in key-service.ts). */
export class KeyRotationError extends Error {
  override name = 'KeyRotationError';
  constructor(
    readonly problem: 'next-key-exists' | 'no-next-key' | 'previous-key-exists',
    message: string,
  ) {
    super(message);
  }
}

function generateKeyPair(alg: SigningAlgorithm): KeyObject {
  switch (alg) {
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'EdDSA':
      return generateKeyPairSync('ed25519').privateKey;
  }
}

/** Order in which oidc-provider sees keys: it signs with the first usable one per algorithm. */
const PUBLICATION_ORDER: Record<SigningKeyState, number> = { current: 0, next: 1, previous: 2, retired: 3 };

/**
 * Signing keys live in the database so every instance signs with the same key.
 * Rotation: `addNext` publishes a key that does not sign yet (relying parties
 * cache JWKS), `promote` makes it sign while the old one stays published as
 * `previous` so tokens already issued still verify, `retire` withdraws it.
 * Each step takes effect in a process when it (re)starts.
 */
export function createSigningKeyStore(db: Database, sealer: Sealer) {
  async function insertKey(alg: SigningAlgorithm, state: SigningKeyState, trx: Database): Promise<string> {
    const privateJwk = generateKeyPair(alg).export({ format: 'jwk' }) as JWK;
    const kid = await calculateJwkThumbprint(privateJwk);
    const { d, p, q, dp, dq, qi, ...publicJwk } = privateJwk;
    void d, p, q, dp, dq, qi;
    await trx('signing_keys')
      .insert({
        kid,
        alg,
        state,
        public_jwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
        private_jwk_sealed: sealer.seal(JSON.stringify({ ...privateJwk, kid, alg, use: 'sig' })),
        promoted_at: state === 'current' ? trx.fn.now() : null,
      })
      // Two instances starting together on an empty database: the unique index keeps one current key.
      .onConflict()
      .ignore();
    return kid;
  }

  return {
    /** Creates a current key for each algorithm that has none (first start). */
    async ensureCurrentKeys(): Promise<void> {
      const present = new Set(
        (await db('signing_keys').where('state', 'current').select('alg')).map((r: { alg: string }) => r.alg),
      );
      for (const alg of SIGNING_ALGORITHMS) {
        if (!present.has(alg)) await insertKey(alg, 'current', db);
      }
    },

    /** The JWK set for oidc-provider's `jwks`: private keys, non-signing ones limited to `verify`. */
    async loadJwks(): Promise<{ keys: JWK[] }> {
      const rows: SigningKeyRow[] = await db('signing_keys').whereNot('state', 'retired').select('*');
      rows.sort((a, b) => PUBLICATION_ORDER[a.state] - PUBLICATION_ORDER[b.state]);
      return {
        keys: rows.map((row) => {
          const jwk = JSON.parse(sealer.open(row.private_jwk_sealed)) as JWK;
          return row.state === 'current' ? jwk : { ...jwk, key_ops: ['verify'] };
        }),
      };
    },

    async list(): Promise<SigningKeySummary[]> {
      return db('signing_keys')
        .select('kid', 'alg', 'state', 'created_at', 'promoted_at', 'retired_at')
        .orderBy('created_at');
    },

    /** Step 1: publish a next key per algorithm. */
    async addNext(): Promise<SigningKeySummary[]> {
      return db.transaction(async (trx): Promise<SigningKeySummary[]> => {
        const pending = await trx('signing_keys').where('state', 'next').first('kid');
        if (pending) throw new KeyRotationError('next-key-exists', 'a next key is already published: promote it before adding another');
        for (const alg of SIGNING_ALGORITHMS) await insertKey(alg, 'next', trx);
        return trx('signing_keys').where('state', 'next').select('kid', 'alg', 'state', 'created_at', 'promoted_at', 'retired_at');
      });
    },

    /** Step 2: the next key signs; the current one stays published as previous. */
    async promote(): Promise<void> {
      await db.transaction(async (trx) => {
        const next = await trx('signing_keys').where('state', 'next').first('kid');
        if (!next) throw new KeyRotationError('no-next-key', 'no next key to promote: add one first and roll every instance');
        const previous = await trx('signing_keys').where('state', 'previous').first('kid');
        if (previous) throw new KeyRotationError('previous-key-exists', 'a previous key is still published: retire it first');
        await trx('signing_keys').where('state', 'current').update({ state: 'previous' });
        await trx('signing_keys').where('state', 'next').update({ state: 'current', promoted_at: trx.fn.now() });
      });
    },

    /** Step 3: withdraw the previous key once tokens signed with it have expired. */
    async retire(): Promise<number> {
      return db('signing_keys').where('state', 'previous').update({ state: 'retired', retired_at: db.fn.now() });
    },
  };
}

export type SigningKeyStore = ReturnType<typeof createSigningKeyStore>;
