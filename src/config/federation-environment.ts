import { createPrivateKey } from 'node:crypto';

/** The provider modules NetID ships (src/federation); `oidc` is any other OpenID Connect provider. */
export type ProviderKind = 'google' | 'apple' | 'office365' | 'liveid' | 'facebook' | 'twitter' | 'oidc';

/** Where a provider's endpoints are, when not where the provider publishes them (a stand-in in tests, a proxy). */
export type EndpointName = 'discovery' | 'authorization' | 'token' | 'userinfo' | 'jwks';

export interface ProviderSettings {
  /** The provider's name in identities, addresses and forms: `google`, or a generic provider's lower-cased name. */
  id: string;
  kind: ProviderKind;
  displayName: string;
  clientId: string;
  /** Absent for Apple, whose client secret NetID signs itself. */
  clientSecret: string | undefined;
  /** OpenID Connect: the issuer the provider's ID tokens must name (Microsoft's names its tenant). */
  issuer: string | undefined;
  scope: string | undefined;
  endpoints: Partial<Record<EndpointName, string>>;
  /** Apple: the team and key that sign the client secret. */
  apple?: { teamId: string; keyId: string; privateKey: string } | undefined;
  /** Whether the provider is sent a PKCE challenge (RFC 7636); Facebook's can be turned off. */
  pkce: boolean;
}

interface Shipped {
  kind: Exclude<ProviderKind, 'oidc'>;
  prefix: string;
  displayName: string;
  /** The variable names for the client's id and secret, as each provider calls them. */
  idName: string;
  secretName: string | undefined;
  issuer: string | undefined;
  endpoints: readonly string[];
}

const OPENID_ENDPOINTS = ['DISCOVERY_URL', 'AUTHORIZATION_URL', 'TOKEN_URL', 'USERINFO_URL', 'JWKS_URL'] as const;
const OAUTH_ENDPOINTS = ['AUTHORIZATION_URL', 'TOKEN_URL', 'PROFILE_URL'] as const;

/** In the order the sign-in screen shows them. */
const SHIPPED: Shipped[] = [
  { kind: 'google', prefix: 'FEDERATION_GOOGLE_', displayName: 'Google', idName: 'CLIENT_ID', secretName: 'CLIENT_SECRET', issuer: 'https://accounts.google.com', endpoints: OPENID_ENDPOINTS },
  { kind: 'apple', prefix: 'FEDERATION_APPLE_', displayName: 'Apple', idName: 'CLIENT_ID', secretName: undefined, issuer: 'https://appleid.apple.com', endpoints: OPENID_ENDPOINTS },
  { kind: 'office365', prefix: 'FEDERATION_OFFICE365_', displayName: 'Office 365', idName: 'CLIENT_ID', secretName: 'CLIENT_SECRET', issuer: undefined, endpoints: OPENID_ENDPOINTS },
  { kind: 'liveid', prefix: 'FEDERATION_LIVEID_', displayName: 'Microsoft account', idName: 'CLIENT_ID', secretName: 'CLIENT_SECRET', issuer: undefined, endpoints: OPENID_ENDPOINTS },
  { kind: 'facebook', prefix: 'FEDERATION_FACEBOOK_', displayName: 'Facebook', idName: 'APP_ID', secretName: 'APP_SECRET', issuer: undefined, endpoints: OAUTH_ENDPOINTS },
  { kind: 'twitter', prefix: 'FEDERATION_TWITTER_', displayName: 'X (Twitter)', idName: 'CLIENT_ID', secretName: 'CLIENT_SECRET', issuer: undefined, endpoints: OAUTH_ENDPOINTS },
];

const GENERIC_SETTINGS = ['ISSUER', 'CLIENT_ID', 'CLIENT_SECRET', 'DISPLAY_NAME', 'SCOPE', ...OPENID_ENDPOINTS] as const;
const GENERIC_VARIABLE = new RegExp(`^FEDERATION_OIDC_([A-Z0-9_]+?)_(${GENERIC_SETTINGS.join('|')})$`);
const RESERVED_IDS = new Set<string>(SHIPPED.map((p) => p.kind));

const endpointName = (variable: string): EndpointName => {
  const name = variable.replace(/_URL$/, '').toLowerCase();
  return (name === 'profile' ? 'userinfo' : name) as EndpointName;
};

/**
 * An address NetID or the browser is sent to: https, or plain http on this
 * machine outside production (a stand-in provider in tests and development).
 */
function checkUrl(variable: string, value: string, production: boolean, problems: string[]): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${variable} is not a URL: "${value}"`);
    return;
  }
  if (url.protocol === 'https:') return;
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && loopback && !production) return;
  problems.push(`${variable} must use https${production ? '' : ' (plain http only on localhost, outside production)'}, got "${value}"`);
}

/** PEM from an environment variable, where line breaks are often written as \n. */
const pem = (value: string) => value.replace(/\\n/g, '\n').trim();

function checkApple(read: (name: string) => string | undefined, problems: string[]): ProviderSettings['apple'] {
  const teamId = read('FEDERATION_APPLE_TEAM_ID');
  const keyId = read('FEDERATION_APPLE_KEY_ID');
  const key = read('FEDERATION_APPLE_PRIVATE_KEY');
  const missing = [
    ['FEDERATION_APPLE_TEAM_ID', teamId],
    ['FEDERATION_APPLE_KEY_ID', keyId],
    ['FEDERATION_APPLE_PRIVATE_KEY', key],
  ].filter(([, value]) => !value);
  if (missing.length) {
    problems.push(`${missing.map(([name]) => name).join(', ')} must be set with FEDERATION_APPLE_CLIENT_ID: Apple's client secret is a JWT NetID signs with the team's key`);
    return undefined;
  }
  if (!/^[A-Z0-9]{10}$/.test(teamId!)) problems.push('FEDERATION_APPLE_TEAM_ID must be the 10-character Team ID from the Apple developer account');
  if (!/^[A-Z0-9]{10}$/.test(keyId!)) problems.push('FEDERATION_APPLE_KEY_ID must be the 10-character Key ID of the Sign in with Apple key');
  try {
    const parsed = createPrivateKey(pem(key!));
    if (parsed.asymmetricKeyType !== 'ec' || parsed.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('not P-256');
  } catch {
    problems.push('FEDERATION_APPLE_PRIVATE_KEY must be the P-256 private key Apple issued (the contents of AuthKey_<KEY_ID>.p8, PEM)');
  }
  return { teamId: teamId!, keyId: keyId!, privateKey: pem(key!) };
}

function shippedProvider(shipped: Shipped, read: (name: string) => string | undefined, production: boolean, problems: string[]): ProviderSettings | undefined {
  const variable = (name: string) => `${shipped.prefix}${name}`;
  const clientId = read(variable(shipped.idName));
  const overrides = [...shipped.endpoints, 'ISSUER', 'SCOPE'].filter((name) => read(variable(name)) !== undefined);
  if (!clientId) {
    if (overrides.length) problems.push(`${variable(overrides[0]!)} is set but ${shipped.displayName} is not configured: set ${variable(shipped.idName)} too`);
    return undefined;
  }
  const clientSecret = shipped.secretName ? read(variable(shipped.secretName)) : undefined;
  if (shipped.secretName && !clientSecret) problems.push(`${variable(shipped.secretName)} must be set with ${variable(shipped.idName)}`);
  const endpoints: ProviderSettings['endpoints'] = {};
  for (const name of shipped.endpoints) {
    const value = read(variable(name));
    if (value === undefined) continue;
    checkUrl(variable(name), value, production, problems);
    endpoints[endpointName(name)] = value;
  }
  const issuer = read(variable('ISSUER'));
  if (issuer !== undefined) {
    if (!shipped.issuer) problems.push(`${variable('ISSUER')} cannot be set: ${shipped.displayName}'s issuer comes from its ${shipped.kind === 'facebook' || shipped.kind === 'twitter' ? 'OAuth 2.0 endpoints' : 'tenant'}`);
    else checkUrl(variable('ISSUER'), issuer, production, problems);
  }
  return {
    id: shipped.kind,
    kind: shipped.kind,
    displayName: shipped.displayName,
    clientId,
    clientSecret,
    issuer: issuer ?? shipped.issuer,
    scope: read(variable('SCOPE')),
    endpoints,
    apple: shipped.kind === 'apple' ? checkApple(read, problems) : undefined,
    pkce: shipped.kind === 'facebook' ? read(variable('PKCE')) !== 'false' : true,
  };
}

function genericProviders(env: NodeJS.ProcessEnv, production: boolean, problems: string[]): ProviderSettings[] {
  const byName = new Map<string, Map<string, string>>();
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith('FEDERATION_OIDC_') || value === undefined || value === '') continue;
    const match = GENERIC_VARIABLE.exec(variable);
    if (!match) {
      problems.push(`${variable} is not a setting NetID knows: generic providers take FEDERATION_OIDC_<NAME>_{${GENERIC_SETTINGS.join(',')}}`);
      continue;
    }
    const settings = byName.get(match[1]!) ?? new Map<string, string>();
    settings.set(match[2]!, value);
    byName.set(match[1]!, settings);
  }
  const providers: ProviderSettings[] = [];
  for (const [name, settings] of byName) {
    const prefix = `FEDERATION_OIDC_${name}_`;
    const id = name.toLowerCase().replace(/_/g, '-');
    const required = ['ISSUER', 'CLIENT_ID', 'CLIENT_SECRET'].filter((setting) => !settings.get(setting));
    if (required.length) {
      problems.push(`${required.map((setting) => `${prefix}${setting}`).join(', ')} must be set for the OpenID Connect provider ${name}`);
      continue;
    }
    if (RESERVED_IDS.has(id) || id.length > 32) {
      problems.push(`FEDERATION_OIDC_${name}_* cannot be used: choose another name (not ${[...RESERVED_IDS].join(', ')}; at most 32 characters)`);
      continue;
    }
    checkUrl(`${prefix}ISSUER`, settings.get('ISSUER')!, production, problems);
    const endpoints: ProviderSettings['endpoints'] = {};
    for (const endpoint of OPENID_ENDPOINTS) {
      const value = settings.get(endpoint);
      if (value === undefined) continue;
      checkUrl(`${prefix}${endpoint}`, value, production, problems);
      endpoints[endpointName(endpoint)] = value;
    }
    providers.push({
      id,
      kind: 'oidc',
      displayName: settings.get('DISPLAY_NAME') ?? name.charAt(0) + name.slice(1).toLowerCase().replace(/_/g, ' '),
      clientId: settings.get('CLIENT_ID')!,
      clientSecret: settings.get('CLIENT_SECRET')!,
      issuer: settings.get('ISSUER')!,
      scope: settings.get('SCOPE'),
      endpoints,
      pkce: true,
    });
  }
  return providers.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The social-login providers configured with credentials, checked as NetID
 * starts: a provider without its client id is simply not offered, and a
 * half-configured one stops the start with a sentence saying what is missing.
 */
export function loadFederationSettings(env: NodeJS.ProcessEnv, production: boolean, problems: string[]): ProviderSettings[] {
  const read = (name: string) => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const shipped = SHIPPED.flatMap((provider) => shippedProvider(provider, read, production, problems) ?? []);
  return [...shipped, ...genericProviders(env, production, problems)];
}
