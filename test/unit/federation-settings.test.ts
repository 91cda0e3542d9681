import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { ConfigError, loadConfig } from '../../src/config/environment.js';
import { appleClientSecret } from '../../src/federation/apple-client-secret.js';
import { reasonOf, routeOfState } from '../../src/federation/federation-service.js';
import { isSpecialUseAddress } from '../../src/federation/photo-download.js';

function problemsWith(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const appleKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('social-login providers in the configuration', () => {
  test('none without credentials; a provider is offered only with its client id and secret', () => {
    expect(loadConfig({}).federation).toEqual([]);
    const [google] = loadConfig({ FEDERATION_GOOGLE_CLIENT_ID: 'id', FEDERATION_GOOGLE_CLIENT_SECRET: 'secret' }).federation;
    expect(google).toMatchObject({ id: 'google', kind: 'google', displayName: 'Google', clientId: 'id', clientSecret: 'secret', issuer: 'https://accounts.google.com', endpoints: {} });
  });

  test('a half-configured provider stops the start and names what is missing', () => {
    expect(problemsWith({ FEDERATION_GOOGLE_CLIENT_ID: 'id' })).toEqual(['FEDERATION_GOOGLE_CLIENT_SECRET must be set with FEDERATION_GOOGLE_CLIENT_ID']);
    expect(problemsWith({ FEDERATION_FACEBOOK_TOKEN_URL: 'https://graph.example/token' })).toEqual([
      'FEDERATION_FACEBOOK_TOKEN_URL is set but Facebook is not configured: set FEDERATION_FACEBOOK_APP_ID too',
    ]);
    expect(problemsWith({ FEDERATION_APPLE_CLIENT_ID: 'com.example' })[0]).toMatch(/FEDERATION_APPLE_TEAM_ID, FEDERATION_APPLE_KEY_ID, FEDERATION_APPLE_PRIVATE_KEY must be set/);
  });

  test('every endpoint can be moved, to https, or to http on this machine outside production', () => {
    const [twitter] = loadConfig({
      FEDERATION_TWITTER_CLIENT_ID: 'id',
      FEDERATION_TWITTER_CLIENT_SECRET: 'secret',
      FEDERATION_TWITTER_AUTHORIZATION_URL: 'http://127.0.0.1:9000/authorize',
      FEDERATION_TWITTER_TOKEN_URL: 'http://localhost:9000/token',
      FEDERATION_TWITTER_PROFILE_URL: 'https://api.example/me',
    }).federation;
    expect(twitter!.endpoints).toEqual({ authorization: 'http://127.0.0.1:9000/authorize', token: 'http://localhost:9000/token', userinfo: 'https://api.example/me' });
    expect(problemsWith({ FEDERATION_GOOGLE_CLIENT_ID: 'id', FEDERATION_GOOGLE_CLIENT_SECRET: 's', FEDERATION_GOOGLE_TOKEN_URL: 'http://google.example/token' })).toEqual([
      'FEDERATION_GOOGLE_TOKEN_URL must use https (plain http only on localhost, outside production), got "http://google.example/token"',
    ]);
    expect(problemsWith({ FEDERATION_GOOGLE_CLIENT_ID: 'id', FEDERATION_GOOGLE_CLIENT_SECRET: 's', FEDERATION_GOOGLE_JWKS_URL: 'not a url' })).toEqual([
      'FEDERATION_GOOGLE_JWKS_URL is not a URL: "not a url"',
    ]);
  });

  test("Microsoft's issuer comes from its tenant and cannot be set", () => {
    expect(problemsWith({ FEDERATION_OFFICE365_CLIENT_ID: 'id', FEDERATION_OFFICE365_CLIENT_SECRET: 's', FEDERATION_OFFICE365_ISSUER: 'https://login.example' })).toEqual([
      "FEDERATION_OFFICE365_ISSUER cannot be set: Office 365's issuer comes from its tenant",
    ]);
  });

  test("Apple's team id, key id and P-256 key are checked; the key may be written with \\n for line breaks", () => {
    const key = appleKey();
    const [apple] = loadConfig({
      FEDERATION_APPLE_CLIENT_ID: 'com.example.netid',
      FEDERATION_APPLE_TEAM_ID: 'ABCDE12345',
      FEDERATION_APPLE_KEY_ID: 'KEY9876543',
      FEDERATION_APPLE_PRIVATE_KEY: key.replace(/\n/g, '\\n'),
    }).federation;
    expect(apple).toMatchObject({ id: 'apple', clientSecret: undefined, apple: { teamId: 'ABCDE12345', keyId: 'KEY9876543', privateKey: key.trim() } });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(problemsWith({ FEDERATION_APPLE_CLIENT_ID: 'x', FEDERATION_APPLE_TEAM_ID: 'short', FEDERATION_APPLE_KEY_ID: 'KEY9876543', FEDERATION_APPLE_PRIVATE_KEY: rsa })).toEqual([
      'FEDERATION_APPLE_TEAM_ID must be the 10-character Team ID from the Apple developer account',
      'FEDERATION_APPLE_PRIVATE_KEY must be the P-256 private key Apple issued (the contents of AuthKey_<KEY_ID>.p8, PEM)',
    ]);
  });

  test('generic OpenID Connect providers by name, after the shipped ones, with a name they may not share', () => {
    const federation = loadConfig({
      FEDERATION_GOOGLE_CLIENT_ID: 'id',
      FEDERATION_GOOGLE_CLIENT_SECRET: 's',
      FEDERATION_OIDC_MY_IDP_ISSUER: 'https://idp.example.com',
      FEDERATION_OIDC_MY_IDP_CLIENT_ID: 'netid',
      FEDERATION_OIDC_MY_IDP_CLIENT_SECRET: 'secret',
      FEDERATION_OIDC_MY_IDP_TOKEN_URL: 'https://internal.example.com/token',
    }).federation;
    expect(federation.map((p) => p.id)).toEqual(['google', 'my-idp']);
    expect(federation[1]).toMatchObject({ kind: 'oidc', displayName: 'My idp', issuer: 'https://idp.example.com', endpoints: { token: 'https://internal.example.com/token' } });
    expect(problemsWith({ FEDERATION_OIDC_CORP_ISSUER: 'https://idp.example.com' })).toEqual([
      'FEDERATION_OIDC_CORP_CLIENT_ID, FEDERATION_OIDC_CORP_CLIENT_SECRET must be set for the OpenID Connect provider CORP',
    ]);
    expect(problemsWith({ FEDERATION_OIDC_GOOGLE_ISSUER: 'https://a.example', FEDERATION_OIDC_GOOGLE_CLIENT_ID: 'x', FEDERATION_OIDC_GOOGLE_CLIENT_SECRET: 'y' })[0]).toMatch(/cannot be used: choose another name/);
    expect(problemsWith({ FEDERATION_OIDC_CORP_COLOUR: 'blue' })[0]).toMatch(/FEDERATION_OIDC_CORP_COLOUR is not a setting NetID knows/);
  });

  test('production refuses plain http even on this machine', () => {
    const production = {
      NODE_ENV: 'production',
      ISSUER: 'https://id.example.com',
      DATABASE_URL: 'postgres://netid@db/netid',
      KEY_ENCRYPTION_KEY: 'a1'.repeat(32),
      SMTP_URL: 'smtp://mail.example.com',
      TRUST_PROXY: 'true',
    };
    expect(problemsWith({ ...production, FEDERATION_OIDC_ACME_ISSUER: 'http://localhost:9000', FEDERATION_OIDC_ACME_CLIENT_ID: 'x', FEDERATION_OIDC_ACME_CLIENT_SECRET: 'y' })).toEqual([
      'FEDERATION_OIDC_ACME_ISSUER must use https, got "http://localhost:9000"',
    ]);
  });
});

describe("Apple's client secret", () => {
  test('is an ES256 JWT from the team for the services id, with the key id, renewed an hour before it expires', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const secret = appleClientSecret({
      teamId: 'ABCDE12345',
      keyId: 'KEY9876543',
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      clientId: 'com.example.netid',
      audience: 'https://appleid.apple.com',
    });
    const start = Date.now();
    await secret.renew(start);
    const first = secret.current();
    const verified = await jwtVerify(first, await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'ES256'), {
      issuer: 'ABCDE12345',
      subject: 'com.example.netid',
      audience: 'https://appleid.apple.com',
    });
    expect(decodeProtectedHeader(first)).toEqual({ alg: 'ES256', kid: 'KEY9876543' });
    expect(verified.payload.exp! - verified.payload.iat!).toBe(24 * 60 * 60);

    await secret.renew(start + 22 * 60 * 60 * 1000);
    expect(secret.current()).toBe(first);
    await secret.renew(start + 23.5 * 60 * 60 * 1000);
    expect(secret.current()).not.toBe(first);
    expect(decodeJwt(secret.current()).exp).toBeGreaterThan(decodeJwt(first).exp!);
  });
});

describe('where a provider sends its answer', () => {
  test("a sign-in's state names its interaction; a connecting page's names nothing else; anything else is nobody's", () => {
    const random = 'A'.repeat(43);
    expect(routeOfState(`i.uid_-123.${random}`)).toEqual({ kind: 'interaction', uid: 'uid_-123' });
    expect(routeOfState(`n.${random}`)).toEqual({ kind: 'network' });
    for (const state of [undefined, '', 'i..x', `i.uid.${random}x`, `n.${random.slice(1)}`, `i.a/b.${random}`, `x.${random}`]) {
      expect(routeOfState(state)).toBeUndefined();
    }
  });
});

describe("the photo download's guard", () => {
  test.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1'])(
    'refuses %s',
    (address) => expect(isSpecialUseAddress(address)).toBe(true),
  );
  test.each(['142.250.74.78', '2a00:1450:4001:82b::200e', '::ffff:142.250.74.78'])('allows %s', (address) => expect(isSpecialUseAddress(address)).toBe(false));
});

describe('what the log says about a failed round trip', () => {
  test('the messages and codes down the causes, never the claims an error carries', () => {
    const inner = Object.assign(new Error('unexpected JWT "aud" (audience) claim value'), { code: 'OAUTH_JWT_CLAIM_COMPARISON', claims: { email: 'ann@example.test' } });
    const outer = new Error('the provider\'s answer was refused', { cause: new Error('unexpected JWT claim value encountered', { cause: inner }) });
    const reason = reasonOf(outer);
    expect(reason).toBe('the provider\'s answer was refused: unexpected JWT claim value encountered: unexpected JWT "aud" (audience) claim value (OAUTH_JWT_CLAIM_COMPARISON)');
    expect(reason).not.toContain('ann@example.test');
  });
});
