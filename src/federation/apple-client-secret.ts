import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';

/** How long each client secret is valid; Apple accepts up to six months. */
const LIFETIME_SECONDS = 24 * 60 * 60;
/** A secret this close to its end is replaced before it is sent. */
const RENEW_BEFORE_SECONDS = 60 * 60;

export interface AppleClientSecret {
  /** Signs a new secret when the current one is near its end. */
  renew(now?: number): Promise<void>;
  /** The current secret (call `renew` first). */
  current(): string;
}

/**
 * Apple's client secret is not a secret string but a JWT signed (ES256) with
 * the team's Sign in with Apple key: issuer the Team ID, subject the Services
 * ID (the client id), audience Apple's issuer, header `kid` the Key ID. It is
 * made here, kept in memory and renewed an hour before it expires.
 */
export function appleClientSecret(settings: { teamId: string; keyId: string; privateKey: string; clientId: string; audience: string }): AppleClientSecret {
  const key = createPrivateKey(settings.privateKey);
  let secret: { value: string; expiresAt: number } | undefined;
  return {
    async renew(now = Date.now()) {
      const seconds = Math.floor(now / 1000);
      if (secret && secret.expiresAt - seconds > RENEW_BEFORE_SECONDS) return;
      const expiresAt = seconds + LIFETIME_SECONDS;
      const value = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: settings.keyId })
        .setIssuer(settings.teamId)
        .setSubject(settings.clientId)
        .setAudience(settings.audience)
        .setIssuedAt(seconds)
        .setExpirationTime(expiresAt)
        .sign(key);
      secret = { value, expiresAt };
    },
    current() {
      if (!secret) throw new Error('the Apple client secret was not made yet');
      return secret.value;
    },
  };
}
