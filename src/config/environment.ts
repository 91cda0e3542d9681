import path from 'node:path';
import { z } from 'zod';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../oidc/signing-keys.js';
import { loadFederationSettings, type ProviderSettings } from './federation-environment.js';

/** Thrown when the environment cannot start NetID; each line says what to change. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`NetID cannot start with this configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * How many reverse proxies in front of NetID append to X-Forwarded-For: `false`
 * (none, the default), `true` (one) or a number. The client address is the entry
 * that many places from the right, the one the outermost trusted proxy saw;
 * entries further left are whatever the client sent and are never believed.
 */
const proxyHops = z
  .string()
  .transform((value, ctx) => {
    if (['false', 'no', '0'].includes(value)) return 0;
    if (['true', 'yes'].includes(value)) return 1;
    if (/^[1-9]$/.test(value)) return Number(value);
    ctx.addIssue({ code: 'custom', message: 'must be false, true (one proxy) or the number of trusted proxies in front of NetID (1-9)' });
    return z.NEVER;
  });

const issuerUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a URL; use e.g. https://id.example.com` });
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    ctx.addIssue({ code: 'custom', message: 'must use http or https' });
  }
  if (url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: 'must not contain a query or a fragment (OpenID Connect Discovery 1.0, section 3)' });
  }
  if (value.endsWith('/')) {
    ctx.addIssue({ code: 'custom', message: 'must not end with a slash; relying parties compare the issuer byte for byte' });
  }
});

const databaseUrl = z.string().superRefine((value, ctx) => {
  try {
    const url = new URL(value);
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      ctx.addIssue({ code: 'custom', message: `must start with postgres:// or postgresql://, got "${url.protocol}//"` });
    }
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not a URL; use postgres://USER:PASSWORD@HOST:5432/DATABASE' });
  }
});

/** 32 bytes, written as 64 hex digits or as base64. */
const keyMaterial = z.string().transform((value, ctx) => {
  const bytes = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (bytes.length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'must be 32 random bytes as 64 hex digits or base64 (openssl rand -hex 32)' });
    return z.NEVER;
  }
  return bytes;
});

const accountUrlPattern = z.string().superRefine((value, ctx) => {
  if (!value.includes('{name}')) {
    ctx.addIssue({ code: 'custom', message: 'must contain {name}, e.g. https://{name}.bitrix24.example' });
    return;
  }
  try {
    const url = new URL(value.replaceAll('{name}', 'example'));
    if (url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: 'must use https (initiate_login_uri must be https, OpenID Connect Core 4)' });
    }
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not a URL pattern' });
  }
});

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number({ message: 'must be a number' }).int().min(0).max(65535).default(3000),
  ISSUER: issuerUrl.optional(),
  DATABASE_URL: databaseUrl.optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(10),
  DATA_DIR: z.string().min(1).default('./data'),
  KEY_ENCRYPTION_KEY: keyMaterial.optional(),
  ACCOUNT_URL_PATTERN: accountUrlPattern.default('https://{name}.bitrix24.test'),
  ACCOUNT_ID_TOKEN_ALG: z.enum(SIGNING_ALGORITHMS, { message: `must be one of ${SIGNING_ALGORITHMS.join(', ')}` }).default('ES256'),
  DEFAULT_PHONE_REGION: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be a two-letter country code such as US or DE')
    .optional(),
  MIGRATE_ON_START: booleanString.optional(),
  DEMO_DATA: booleanString.optional(),
  TRUST_PROXY: proxyHops.default(0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CLEANUP_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(300),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL, e.g. smtp://user:password@mail.example.com:587')
    .optional(),
  MAIL_FROM: z.string().min(3).default('Bitrix24 Network <no-reply@netid.test>'),
  SMS_GATEWAY_URL: z.string().url('must be the https URL NetID POSTs each SMS to').optional(),
  SMS_GATEWAY_AUTHORIZATION: z.string().optional(),
  SMS_GATEWAY_BODY: z.string().default('{"to":"{to}","text":"{text}"}'),
  SMS_GATEWAY_CONTENT_TYPE: z.string().default('application/json'),
  DEV_OUTBOX: booleanString.optional(),
  OUTBOX_POLL_MS: z.coerce.number().int().min(50).default(2000),
  METRICS_PORT: z.coerce.number({ message: 'must be a port number' }).int().min(1).max(65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters (openssl rand -hex 32): it is the only thing between /metrics and the public')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces, as it is sent in an Authorization header')
    .optional(),
  OUTGOING_PRIVATE_NETWORKS: z
    .enum(['allow', 'deny'], { message: 'must be allow or deny (allow lets back-channel logout reach loopback and private addresses)' })
    .default('deny'),
});

export type Environment = 'development' | 'production' | 'test';

export interface Config {
  env: Environment;
  host: string;
  port: number;
  issuer: string;
  /** `undefined` selects the embedded PGlite database under `dataDir`. */
  databaseUrl: string | undefined;
  databasePoolMax: number;
  dataDir: string;
  keyEncryptionKey: Buffer;
  accountUrlPattern: string;
  /** How ID tokens of accounts' clients created from now on are signed; other clients get RS256. */
  accountIdTokenAlg: SigningAlgorithm;
  defaultPhoneRegion: string | undefined;
  migrateOnStart: boolean;
  demoData: boolean;
  /** Reverse proxies in front of NetID whose X-Forwarded-For entries are believed (0: none). */
  proxyHops: number;
  /** Outgoing requests (back-channel logout, a client's jwks_uri) may reach loopback and private addresses. */
  allowPrivateNetworks: boolean;
  logLevel: string;
  cleanupIntervalSeconds: number;
  /**
   * Prometheus metrics: on a listen address of their own (`port`, `host`), or on the main
   * port with the bearer `token`; with neither, /metrics is not served at all.
   */
  metrics: { port: number | undefined; host: string; token: string | undefined };
  /** Social-login providers configured with credentials, in the order the sign-in screen offers them. */
  federation: ProviderSettings[];
  /** Settings that work but are probably not what the operator meant; logged loudly at start. */
  warnings: string[];
  delivery: {
    smtpUrl: string | undefined;
    mailFrom: string;
    smsGateway: { url: string; authorization: string | undefined; bodyTemplate: string; contentType: string } | undefined;
    /** Messages without a configured sender go to the in-memory page /dev/outbox. */
    devOutbox: boolean;
    pollMilliseconds: number;
  };
}

/**
 * A development-only key so that `npm start` works with nothing configured.
 * Production refuses to start without KEY_ENCRYPTION_KEY (see below).
 */
const DEVELOPMENT_KEY_ENCRYPTION_KEY = Buffer.from('netid-development-key-encryption!', 'utf8').subarray(0, 32);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const production = e.NODE_ENV === 'production';
  if (production && !e.KEY_ENCRYPTION_KEY) {
    problems.push('KEY_ENCRYPTION_KEY is required in production: it encrypts signing keys at rest (openssl rand -hex 32)');
  }
  if (production && !e.DATABASE_URL) {
    problems.push('DATABASE_URL is required in production: the embedded PGlite database is single-connection and for development only');
  }
  if (production && !e.ISSUER) {
    problems.push('ISSUER is required in production: the public https URL relying parties use, e.g. https://id.example.com');
  }
  const issuer = e.ISSUER ?? `http://localhost:${e.PORT}`;
  if (production && !issuer.startsWith('https://')) {
    problems.push(`ISSUER must use https in production, got "${issuer}"`);
  }
  // NetID itself speaks plain HTTP, so an https ISSUER means a TLS-terminating proxy in front of it.
  // Without TRUST_PROXY every person appears to come from that proxy's address, and the per-address
  // limits then throttle everyone together.
  const behindUntrustedProxy = issuer.startsWith('https://') && e.TRUST_PROXY === 0;
  if (production && behindUntrustedProxy) {
    problems.push(
      'ISSUER is https but TRUST_PROXY is off: NetID listens on plain HTTP behind a TLS-terminating proxy, so set TRUST_PROXY=true (or the number of proxies) for it to see each client\'s address',
    );
  }
  const warnings = behindUntrustedProxy
    ? [
        'ISSUER is https but TRUST_PROXY is off: every request will seem to come from the proxy in front of NetID, so per-address limits apply to everyone together; set TRUST_PROXY=true (or the number of proxies)',
      ]
    : [];
  if (production && e.DEV_OUTBOX) {
    problems.push('DEV_OUTBOX must not be enabled in production: it shows one-time codes on a web page');
  }
  if (production && !e.SMTP_URL) {
    problems.push('SMTP_URL is required in production: sign-up and recovery send one-time codes by email');
  }
  const federation = loadFederationSettings(env, production, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    issuer,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    dataDir: path.resolve(e.DATA_DIR),
    keyEncryptionKey: e.KEY_ENCRYPTION_KEY ?? DEVELOPMENT_KEY_ENCRYPTION_KEY,
    accountUrlPattern: e.ACCOUNT_URL_PATTERN,
    accountIdTokenAlg: e.ACCOUNT_ID_TOKEN_ALG,
    defaultPhoneRegion: e.DEFAULT_PHONE_REGION,
    // The embedded database has one user, so migrating at start is safe; a fleet runs `npm run migrate` once.
    migrateOnStart: e.MIGRATE_ON_START ?? !production,
    demoData: e.DEMO_DATA ?? !production,
    proxyHops: e.TRUST_PROXY,
    federation,
    warnings,
    allowPrivateNetworks: e.OUTGOING_PRIVATE_NETWORKS === 'allow',
    logLevel: e.LOG_LEVEL,
    cleanupIntervalSeconds: e.CLEANUP_INTERVAL_SECONDS,
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST, token: e.METRICS_TOKEN },
    delivery: {
      smtpUrl: e.SMTP_URL,
      mailFrom: e.MAIL_FROM,
      smsGateway: e.SMS_GATEWAY_URL
        ? {
            url: e.SMS_GATEWAY_URL,
            authorization: e.SMS_GATEWAY_AUTHORIZATION,
            bodyTemplate: e.SMS_GATEWAY_BODY,
            contentType: e.SMS_GATEWAY_CONTENT_TYPE,
          }
        : undefined,
      devOutbox: e.DEV_OUTBOX ?? !production,
      pollMilliseconds: e.OUTBOX_POLL_MS,
    },
  };
}
