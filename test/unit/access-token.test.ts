import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { createTokenVerifier } from '../../src/api/access-token.js';

const issuer = 'https://id.example.test';
const audience = `${issuer}/api`;

async function setUp() {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const verify = createTokenVerifier({ issuer, audience, keys: [jwk], provider: {} as Provider });
  const token = (lifetimeSeconds: number) =>
    new SignJWT({ client_id: 'back-end', scope: 'account:admin' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject('back-end')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + lifetimeSeconds)
      .sign(privateKey);
  const request = (value: string) =>
    ({ get: (name: string) => (name.toLowerCase() === 'authorization' ? `Bearer ${value}` : ''), ip: '127.0.0.1', path: '/api/v1/keys', method: 'GET' }) as unknown as Context;
  return { verify, token, request };
}

describe('management API access tokens', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('accepts a token again and again while it lives, and refuses it once it has expired', async () => {
    const { verify, token, request } = await setUp();
    const value = await token(60);
    await expect(verify(request(value))).resolves.toMatchObject({ clientId: 'back-end', scopes: new Set(['account:admin']) });
    await expect(verify(request(value))).resolves.toMatchObject({ clientId: 'back-end' });

    jest.useFakeTimers({ now: Date.now() + 61_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const refusal = await verify(request(value)).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ problem: 'unauthorized', extra: { detail: expect.stringMatching(/expired/) } });
  });

  it('refuses a token whose signature was changed, even after the genuine one was accepted', async () => {
    const { verify, token, request } = await setUp();
    const value = await token(60);
    await verify(request(value));
    const [header, payload, signature] = value.split('.');
    const bytes = Buffer.from(signature!, 'base64url');
    bytes[10] = bytes[10]! ^ 0x01;
    const tampered = `${header}.${payload}.${bytes.toString('base64url')}`;
    await expect(verify(request(tampered))).rejects.toMatchObject({ problem: 'unauthorized' });
  });
});
