/**
 * Authentication context classes NetID asserts in `acr`, and advertises in
 * discovery, from weakest to strongest. Each level satisfies a request for
 * any level before it.
 * - `1fa`: one factor (a password, or an upstream identity);
 * - `2fa`: two factors, at least one of them a second factor (an authenticator
 *   app code or a recovery code after the password);
 * - `phr`: phishing-resistant: a passkey or security key took part, bound to
 *   NetID's origin, with a second factor (the password, or the
 *   authenticator's own user verification).
 */
export const ACR = {
  oneFactor: 'urn:netid:acr:1fa',
  twoFactors: 'urn:netid:acr:2fa',
  phishingResistant: 'urn:netid:acr:phr',
} as const;

export type AcrValue = (typeof ACR)[keyof typeof ACR];

export const ACR_VALUES: readonly AcrValue[] = [ACR.oneFactor, ACR.twoFactors, ACR.phishingResistant];

/** RFC 8176 `amr` values NetID records. */
export const AMR = {
  password: 'pwd',
  oneTimePassword: 'otp',
  hardwareKey: 'hwk',
  softwareKey: 'swk',
  userPresence: 'user',
  multipleFactors: 'mfa',
  federated: 'fed',
} as const;

const rank = (acr: string): number => ACR_VALUES.indexOf(acr as AcrValue);

const KNOWLEDGE_OR_FEDERATED: readonly string[] = [AMR.password, AMR.federated];
const POSSESSION: readonly string[] = [AMR.oneTimePassword, AMR.hardwareKey, AMR.softwareKey];

/**
 * Adds `mfa` once what was proven spans two factors: a password or an
 * upstream identity, and something the person has. (A passkey that verified
 * the person itself says `mfa` when it is proven.)
 */
export function withMultipleFactors(amr: readonly string[]): string[] {
  const unique = [...new Set(amr)];
  const two = unique.some((value) => KNOWLEDGE_OR_FEDERATED.includes(value)) && unique.some((value) => POSSESSION.includes(value));
  return two && !unique.includes(AMR.multipleFactors) ? [...unique, AMR.multipleFactors] : unique;
}

/** The `acr` a sign-in earns from what it proved (its RFC 8176 `amr` values). */
export function acrFor(amr: readonly string[]): AcrValue {
  const multiple = withMultipleFactors(amr).includes(AMR.multipleFactors);
  const key = amr.includes(AMR.hardwareKey) || amr.includes(AMR.softwareKey);
  if (multiple && key) return ACR.phishingResistant;
  if (multiple) return ACR.twoFactors;
  return ACR.oneFactor;
}

/** Whether what was proven reaches `level`. */
export const reaches = (amr: readonly string[], level: AcrValue): boolean => rank(acrFor(amr)) >= rank(level);

/** The stronger of two levels; undefined stands for no demand. */
export function stronger(a: AcrValue | undefined, b: AcrValue | undefined): AcrValue | undefined {
  if (!a) return b;
  if (!b) return a;
  return rank(a) >= rank(b) ? a : b;
}

/** What a relying party asked for: `acr_values`, or the `acr` claim of the claims parameter. */
export interface AcrRequest {
  /** The values it named, in its order. */
  values: string[];
  /** Asked as an essential claim: a token with another value would be refused. */
  essential: boolean;
}

function claimsRequest(claims: unknown): AcrRequest | undefined {
  let parsed = claims;
  if (typeof parsed === 'string') {
    try {
      parsed = JSON.parse(parsed);
    } catch {
      return undefined;
    }
  }
  const acr = (parsed as { id_token?: { acr?: { essential?: unknown; value?: unknown; values?: unknown } } } | null)?.id_token?.acr;
  if (!acr || typeof acr !== 'object') return undefined;
  const values = Array.isArray(acr.values) ? acr.values.filter((v): v is string => typeof v === 'string') : typeof acr.value === 'string' ? [acr.value] : [];
  return values.length ? { values, essential: acr.essential === true } : undefined;
}

/**
 * What the authorization request asks of the authentication: the `acr`
 * claim of `claims` when it names values, else `acr_values` (a voluntary
 * request, which NetID honours all the same: a relying party that names a
 * level gets it or an error).
 */
export function acrRequestOf(params: { acr_values?: unknown; claims?: unknown }): AcrRequest | undefined {
  const fromClaims = claimsRequest(params.claims);
  if (fromClaims) return fromClaims;
  if (typeof params.acr_values !== 'string' || !params.acr_values.trim()) return undefined;
  return { values: params.acr_values.trim().split(/\s+/), essential: false };
}

/**
 * The weakest level NetID knows among those requested: any of them will do.
 * Undefined when nothing NetID knows was asked for.
 */
export function requestedLevel(request: AcrRequest | undefined): AcrValue | undefined {
  const known = (request?.values ?? []).filter((value): value is AcrValue => rank(value) >= 0);
  if (!known.length) return undefined;
  return known.reduce((weakest, value) => (rank(value) < rank(weakest) ? value : weakest));
}

/**
 * The `acr` a token carries for this request: what was reached, or, when the
 * relying party named values and what was reached is stronger than the
 * strongest of them it reaches, that value (OpenID Connect Core 5.5.1.1: the
 * answer to an essential `acr` is one of the values asked for).
 */
export function reportedAcr(amr: readonly string[], request: AcrRequest | undefined): AcrValue {
  const reached = acrFor(amr);
  const asked = (request?.values ?? []).filter((value): value is AcrValue => rank(value) >= 0);
  if (!asked.length || asked.includes(reached)) return reached;
  const met = asked.filter((value) => rank(value) <= rank(reached));
  return met.length ? met.reduce((best, value) => (rank(value) > rank(best) ? value : best)) : reached;
}
