import { randomBytes } from 'node:crypto';
import type { Database } from '../db/database.js';
import type { Sealer } from '../security/sealing.js';

/**
 * Secrets every instance must share and that no operator needs to choose:
 * created by whichever instance starts first, then read by all.
 */
async function sharedSecret(db: Database, sealer: Sealer, name: string, bytes: number): Promise<Buffer> {
  await db('installation_secrets')
    .insert({ name, value_sealed: sealer.seal(randomBytes(bytes).toString('base64url')) })
    .onConflict('name')
    .ignore();
  const row = await db('installation_secrets').where({ name }).first('value_sealed');
  return Buffer.from(sealer.open(row.value_sealed), 'base64url');
}

export interface InstallationSecrets {
  /** Keys that sign oidc-provider's cookies. */
  cookieKeys: string[];
  /** 32 bytes from which DPoP nonces are derived (RFC 9449 section 8). */
  dpopNonceSecret: Buffer;
  /** Key for NetID's own CSRF tokens. */
  csrfKey: Buffer;
  /** Key under which one-time codes are hashed. */
  codeKey: Buffer;
}

export async function loadInstallationSecrets(db: Database, sealer: Sealer): Promise<InstallationSecrets> {
  return {
    cookieKeys: [(await sharedSecret(db, sealer, 'cookie-key', 32)).toString('base64url')],
    dpopNonceSecret: await sharedSecret(db, sealer, 'dpop-nonce-secret', 32),
    csrfKey: await sharedSecret(db, sealer, 'csrf-key', 32),
    codeKey: await sharedSecret(db, sealer, 'one-time-code-key', 32),
  };
}
