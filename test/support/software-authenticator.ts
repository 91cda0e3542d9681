import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const bigEndian = (value: number, length: number) => {
  const bytes = Buffer.alloc(length);
  bytes.writeUIntBE(value, 0, length);
  return bytes;
};

const FLAG_USER_PRESENT = 0x01;
const FLAG_USER_VERIFIED = 0x04;
const FLAG_BACKUP_ELIGIBLE = 0x08;
const FLAG_BACKED_UP = 0x10;
const FLAG_ATTESTED = 0x40;

/**
 * A WebAuthn authenticator in the test process, for tests without a browser:
 * one P-256 credential, "none" attestation, answers built as a browser sends
 * them (the JSON SimpleWebAuthn's browser part produces). `synced` makes it a
 * passkey that is backed up (a multi-device credential).
 */
export function softwareAuthenticator(origin: string, options: { synced?: boolean } = {}) {
  const rpIdHash = createHash('sha256').update(new URL(origin).hostname).digest();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const credentialId = randomBytes(16);
  const id = b64(credentialId);
  const synced = options.synced ? FLAG_BACKUP_ELIGIBLE | FLAG_BACKED_UP : 0;
  let counter = 0;

  const clientData = (type: string, challenge: string) => Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));

  return {
    credentialId: id,

    /** The answer to registration options (`navigator.credentials.create`). */
    register(challenge: string): string {
      const coseKey = isoCBOR.encode(
        new Map<number, number | Uint8Array>([
          [1, 2],
          [3, -7],
          [-1, 1],
          [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
          [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
        ]) as never,
      );
      const authData = Buffer.concat([
        rpIdHash,
        Buffer.from([FLAG_USER_PRESENT | FLAG_USER_VERIFIED | FLAG_ATTESTED | synced]),
        bigEndian(0, 4),
        Buffer.alloc(16),
        bigEndian(credentialId.length, 2),
        credentialId,
        Buffer.from(coseKey),
      ]);
      const attestationObject = isoCBOR.encode(
        new Map<string, unknown>([
          ['fmt', 'none'],
          ['attStmt', new Map()],
          ['authData', new Uint8Array(authData)],
        ]) as never,
      );
      return JSON.stringify({
        id,
        rawId: id,
        type: 'public-key',
        response: { clientDataJSON: b64(clientData('webauthn.create', challenge)), attestationObject: b64(attestationObject), transports: ['internal'] },
        clientExtensionResults: {},
      });
    },

    /** The answer to authentication options (`navigator.credentials.get`); each one counts up. */
    authenticate(challenge: string, answer: { userVerified?: boolean } = {}): string {
      counter += 1;
      const flags = FLAG_USER_PRESENT | (answer.userVerified === false ? 0 : FLAG_USER_VERIFIED) | synced;
      const authData = Buffer.concat([rpIdHash, Buffer.from([flags]), bigEndian(counter, 4)]);
      const data = clientData('webauthn.get', challenge);
      const signature = sign('sha256', Buffer.concat([authData, createHash('sha256').update(data).digest()]), privateKey);
      return JSON.stringify({
        id,
        rawId: id,
        type: 'public-key',
        response: { clientDataJSON: b64(data), authenticatorData: b64(authData), signature: b64(signature) },
        clientExtensionResults: {},
      });
    },
  };
}
