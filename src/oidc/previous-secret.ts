import { timingSafeEqual } from 'node:crypto';
import type Provider from 'oidc-provider';

interface SecretComparingClient {
  compareClientSecret(actual: string): Promise<boolean> | boolean;
  metadata(): Record<string, unknown>;
}

const equal = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * After a rotation with a grace period, a client's previous secret keeps
 * working until `netid_previous_secret_expires_at` (src/clients/client-service.ts
 * rotateSecret), so each of the client's instances can move to the new one
 * without a moment where none can authenticate. oidc-provider compares
 * secrets in Client#compareClientSecret (lib/models/client.js); this lets the
 * previous one pass too while it lasts.
 */
export function acceptPreviousSecrets(provider: Provider): void {
  const prototype = provider.Client.prototype as unknown as SecretComparingClient;
  const compare = prototype.compareClientSecret;
  prototype.compareClientSecret = async function (this: SecretComparingClient, actual: string) {
    if (await compare.call(this, actual)) return true;
    const metadata = this.metadata();
    const previous = metadata.netid_previous_secret;
    const until = metadata.netid_previous_secret_expires_at;
    return typeof previous === 'string' && typeof until === 'number' && until > Date.now() / 1000 && equal(previous, actual);
  };
}
