import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config/environment.js';

const KEY_HEX = 'a1'.repeat(32);
const productionEnv = {
  NODE_ENV: 'production',
  ISSUER: 'https://id.example.com',
  DATABASE_URL: 'postgres://netid:secret@db.example.com:5432/netid',
  KEY_ENCRYPTION_KEY: KEY_HEX,
  // Production also needs a way to send one-time codes; it is not what these tests are about.
  SMTP_URL: 'smtp://mail.example.com:587',
  // NetID speaks plain HTTP, so an https issuer means a proxy in front of it.
  TRUST_PROXY: 'true',
};

/** The problems loadConfig reports, so each test can say which variable was blamed. */
function problemsWith(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig with nothing configured', () => {
  test('serves a development issuer on localhost at the default port from the embedded database', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      host: '127.0.0.1',
      port: 3000,
      issuer: 'http://localhost:3000',
      databaseUrl: undefined,
      migrateOnStart: true,
      demoData: true,
      proxyHops: 0,
    });
    expect(config.dataDir).toBe(path.resolve('./data'));
    expect(config.keyEncryptionKey).toHaveLength(32);
  });

  test('derives the issuer from PORT when ISSUER is not set', () => {
    expect(loadConfig({ PORT: '4100' })).toMatchObject({ port: 4100, issuer: 'http://localhost:4100' });
  });

  test('keeps an explicit ISSUER regardless of PORT', () => {
    expect(loadConfig({ PORT: '4100', ISSUER: 'https://id.example.com' }).issuer).toBe('https://id.example.com');
  });

  test('treats an empty variable as unset, so an empty DATABASE_URL still selects PGlite', () => {
    expect(loadConfig({ DATABASE_URL: '', ISSUER: '', PORT: '' })).toMatchObject({
      databaseUrl: undefined,
      issuer: 'http://localhost:3000',
    });
  });

  test('accepts a PostgreSQL DATABASE_URL under either scheme name', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@h:5432/d' }).databaseUrl).toBe('postgres://u:p@h:5432/d');
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@h/d' }).databaseUrl).toBe('postgresql://u:p@h/d');
  });

  test('reads KEY_ENCRYPTION_KEY written as hex or as base64 into the same 32 bytes', () => {
    const bytes = Buffer.from(KEY_HEX, 'hex');
    expect(loadConfig({ KEY_ENCRYPTION_KEY: KEY_HEX }).keyEncryptionKey).toEqual(bytes);
    expect(loadConfig({ KEY_ENCRYPTION_KEY: bytes.toString('base64') }).keyEncryptionKey).toEqual(bytes);
  });
});

describe('loadConfig refuses a malformed ISSUER', () => {
  test.each([
    ['a query', 'https://id.example.com?tenant=1', /^ISSUER .*query/],
    ['a fragment', 'https://id.example.com#top', /^ISSUER .*fragment/],
    ['a trailing slash', 'https://id.example.com/', /^ISSUER .*slash/],
    ['not a URL', 'id.example.com', /^ISSUER "id\.example\.com" is not a URL/],
    ['another scheme', 'ftp://id.example.com', /^ISSUER must use http or https/],
  ])('with %s', (_, issuer, message) => {
    const problems = problemsWith({ ISSUER: issuer });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });
});

describe('loadConfig names the variable in every problem', () => {
  test('a DATABASE_URL for another database', () => {
    expect(problemsWith({ DATABASE_URL: 'mysql://u:p@h/d' })).toEqual([
      expect.stringMatching(/^DATABASE_URL must start with postgres:\/\/ or postgresql:\/\/, got "mysql:\/\/"/),
    ]);
  });

  test('a DATABASE_URL that is not a URL', () => {
    expect(problemsWith({ DATABASE_URL: 'db.example.com:5432' })).toEqual([
      expect.stringMatching(/^DATABASE_URL .*postgres:\/\//),
    ]);
    expect(problemsWith({ DATABASE_URL: 'not a url' })).toEqual([expect.stringMatching(/^DATABASE_URL is not a URL/)]);
  });

  test.each([
    ['too short', 'abcd'],
    ['63 hex digits', 'a'.repeat(63)],
    ['33 bytes of base64', Buffer.alloc(33, 7).toString('base64')],
  ])('a KEY_ENCRYPTION_KEY that is %s', (_, key) => {
    expect(problemsWith({ KEY_ENCRYPTION_KEY: key })).toEqual([
      expect.stringMatching(/^KEY_ENCRYPTION_KEY must be 32 random bytes .*openssl rand -hex 32/),
    ]);
  });

  test('an ACCOUNT_URL_PATTERN without {name}', () => {
    expect(problemsWith({ ACCOUNT_URL_PATTERN: 'https://accounts.example.com' })).toEqual([
      expect.stringMatching(/^ACCOUNT_URL_PATTERN must contain \{name\}/),
    ]);
  });

  test('an ACCOUNT_URL_PATTERN that is not https', () => {
    expect(problemsWith({ ACCOUNT_URL_PATTERN: 'http://{name}.bitrix24.example' })).toEqual([
      expect.stringMatching(/^ACCOUNT_URL_PATTERN must use https/),
    ]);
  });

  test('an ACCOUNT_ID_TOKEN_ALG that NetID has no keys for', () => {
    expect(problemsWith({ ACCOUNT_ID_TOKEN_ALG: 'HS256' })).toEqual(['ACCOUNT_ID_TOKEN_ALG must be one of RS256, ES256, EdDSA']);
  });

  test('accounts sign with ES256 unless ACCOUNT_ID_TOKEN_ALG says otherwise', () => {
    expect(loadConfig({}).accountIdTokenAlg).toBe('ES256');
    expect(loadConfig({ ACCOUNT_ID_TOKEN_ALG: 'RS256' }).accountIdTokenAlg).toBe('RS256');
    expect(loadConfig({ ACCOUNT_ID_TOKEN_ALG: 'EdDSA' }).accountIdTokenAlg).toBe('EdDSA');
  });

  test('a PORT that is not a number', () => {
    expect(problemsWith({ PORT: 'eighty' })).toEqual([expect.stringMatching(/^PORT /)]);
  });

  test('several mistakes at once, each on its own line of the error message', () => {
    let thrown: unknown;
    try {
      loadConfig({ ISSUER: 'https://id.example.com/', DATABASE_URL: 'mysql://h/d' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const lines = (thrown as Error).message.split('\n');
    expect(lines[0]).toBe('NetID cannot start with this configuration:');
    expect(lines.slice(1)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ {2}- ISSUER /), expect.stringMatching(/^ {2}- DATABASE_URL /)]),
    );
  });
});

describe('loadConfig in production', () => {
  test('starts with an https issuer, PostgreSQL and a key-encryption key, without migrating or demo data', () => {
    expect(loadConfig(productionEnv)).toMatchObject({
      env: 'production',
      issuer: 'https://id.example.com',
      databaseUrl: productionEnv.DATABASE_URL,
      keyEncryptionKey: Buffer.from(KEY_HEX, 'hex'),
      migrateOnStart: false,
      demoData: false,
    });
  });

  test('refuses to start without KEY_ENCRYPTION_KEY', () => {
    expect(problemsWith({ ...productionEnv, KEY_ENCRYPTION_KEY: undefined })).toEqual([
      expect.stringMatching(/^KEY_ENCRYPTION_KEY is required in production/),
    ]);
  });

  test('refuses to start on the embedded database', () => {
    expect(problemsWith({ ...productionEnv, DATABASE_URL: undefined })).toEqual([
      expect.stringMatching(/^DATABASE_URL is required in production/),
    ]);
  });

  test('refuses to start without ISSUER', () => {
    expect(problemsWith({ ...productionEnv, ISSUER: undefined })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ISSUER is required in production/)]),
    );
  });

  test('refuses an http issuer', () => {
    expect(problemsWith({ ...productionEnv, ISSUER: 'http://id.example.com' })).toEqual([
      'ISSUER must use https in production, got "http://id.example.com"',
    ]);
  });

  test('lists every missing variable at once', () => {
    const problems = problemsWith({ NODE_ENV: 'production' });
    for (const variable of ['KEY_ENCRYPTION_KEY', 'DATABASE_URL', 'ISSUER']) {
      expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${variable} `))]));
    }
  });
});

describe('TRUST_PROXY', () => {
  test.each([
    ['false', 0],
    ['0', 0],
    ['true', 1],
    ['1', 1],
    ['2', 2],
  ])('%s trusts %d proxies in front of NetID', (value, hops) => {
    expect(loadConfig({ TRUST_PROXY: value }).proxyHops).toBe(hops);
  });

  test.each(['maybe', '-1', '10', 'all'])('refuses %s with a sentence that says what it takes', (value) => {
    expect(problemsWith({ TRUST_PROXY: value })).toEqual([expect.stringMatching(/^TRUST_PROXY must be false, true \(one proxy\) or the number/)]);
  });

  test('refuses an https issuer without a trusted proxy in production, where every client would share the proxy address', () => {
    expect(problemsWith({ ...productionEnv, TRUST_PROXY: undefined })).toEqual([
      expect.stringMatching(/^ISSUER is https but TRUST_PROXY is off/),
    ]);
  });

  test('warns about the same combination outside production, and not otherwise', () => {
    expect(loadConfig({ ISSUER: 'https://id.example.test' }).warnings).toEqual([expect.stringMatching(/^ISSUER is https but TRUST_PROXY is off/)]);
    expect(loadConfig({ ISSUER: 'https://id.example.test', TRUST_PROXY: 'true' }).warnings).toEqual([]);
    expect(loadConfig({}).warnings).toEqual([]);
  });
});

describe('OUTGOING_PRIVATE_NETWORKS', () => {
  test('denies loopback and private addresses unless told otherwise, in production too', () => {
    expect(loadConfig({}).allowPrivateNetworks).toBe(false);
    expect(loadConfig(productionEnv).allowPrivateNetworks).toBe(false);
    expect(loadConfig({ OUTGOING_PRIVATE_NETWORKS: 'deny' }).allowPrivateNetworks).toBe(false);
  });

  test('allow lets outgoing requests reach private networks, also in production', () => {
    expect(loadConfig({ OUTGOING_PRIVATE_NETWORKS: 'allow' }).allowPrivateNetworks).toBe(true);
    expect(loadConfig({ ...productionEnv, OUTGOING_PRIVATE_NETWORKS: 'allow' }).allowPrivateNetworks).toBe(true);
  });

  test.each(['true', 'yes', 'ALLOW', 'private'])('refuses %s with a sentence that names both values', (value) => {
    expect(problemsWith({ OUTGOING_PRIVATE_NETWORKS: value })).toEqual([expect.stringMatching(/^OUTGOING_PRIVATE_NETWORKS must be allow or deny/)]);
  });
});
