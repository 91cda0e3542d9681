import type { ProviderSettings } from '../config/federation-environment.js';
import { openIdProvider } from './openid-connect.js';
import { cleanEmail, cleanText, splitName, type FederationProvider, type UpstreamIdentity } from './provider.js';

/** The tenant every personal Microsoft account (LiveID, outlook.com, hotmail.com) signs in from. */
export const CONSUMERS_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Tenant = 'organizations' | 'consumers';

/**
 * Microsoft's identity platform: Office 365 is the `organizations` tenant
 * (work and school accounts), LiveID the `consumers` tenant (personal
 * accounts). Its discovery document names the issuer
 * `https://login.microsoftonline.com/{tenantid}/v2.0`, and each token's
 * issuer is its own tenant's: openid-client checks `iss` against that
 * pattern filled with the token's `tid`, which it does for documents it
 * discovered from login.microsoftonline.com, hence the fixed discovery
 * address (a configured FEDERATION_<P>_DISCOVERY_URL replaces where it is
 * read from, not what it is checked against).
 *
 * A person's stable subject is the tenant with the object id (`tid` + `oid`;
 * `sub` differs per application). The email counts as confirmed only with the
 * `xms_edov` claim (the email's domain is verified by its owner), an optional
 * claim the app registration must ask for; `email` alone says nothing.
 */
function microsoftProvider(settings: ProviderSettings, callbackUrl: string, tenant: Tenant): FederationProvider {
  return openIdProvider(settings, callbackUrl, {
    server: `https://login.microsoftonline.com/${tenant}/v2.0`,
    scope: settings.scope ?? 'openid email profile',
    map: ({ claims }): UpstreamIdentity => {
      const tid = typeof claims.tid === 'string' ? claims.tid.toLowerCase() : '';
      const oid = typeof claims.oid === 'string' ? claims.oid.toLowerCase() : '';
      if (!GUID.test(tid) || !GUID.test(oid)) throw new Error('the ID token has no tenant or object id');
      // A personal account must not come in as a work account, nor the other way round.
      if ((tenant === 'consumers') !== (tid === CONSUMERS_TENANT)) throw new Error(`a token of tenant ${tid} is not one of ${tenant}`);
      const fallback = splitName(claims.name);
      return {
        provider: settings.id,
        issuer: claims.iss,
        subject: `${tid}.${oid}`,
        email: cleanEmail(claims.email),
        emailVerified: claims.xms_edov === true || claims.xms_edov === 1 || claims.xms_edov === '1' || claims.xms_edov === 'true',
        names: { first: cleanText(claims.given_name) ?? fallback.first, last: cleanText(claims.family_name) ?? fallback.last },
      };
    },
  });
}

export const office365Provider = (settings: ProviderSettings, callbackUrl: string) => microsoftProvider(settings, callbackUrl, 'organizations');
export const liveIdProvider = (settings: ProviderSettings, callbackUrl: string) => microsoftProvider(settings, callbackUrl, 'consumers');
