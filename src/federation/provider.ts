import { normaliseEmail } from '../profile/identifier.js';

/**
 * A person as an upstream provider vouches for them, in the provider's own
 * words mapped to NetID's: the subject is stable for the person at that
 * provider; the email counts as confirmed only when the provider says so.
 */
export interface UpstreamIdentity {
  provider: string;
  issuer: string;
  subject: string;
  email?: string | undefined;
  emailVerified: boolean;
  names: { first?: string | undefined; last?: string | undefined };
  /** Where the provider keeps the person's picture, if it gave one. */
  photo?: string | undefined;
}

/**
 * What is kept between sending the browser to a provider and its answer: the
 * PKCE verifier, the nonce and the state the answer must carry. The
 * strategies write and read it as passport's session data; NetID keeps it
 * sealed in the database, found by the state (src/federation/federation-service.ts).
 */
export type Checks = Record<string, unknown>;

/** The provider's answer as it reached NetID: the query of a redirect, or a form it posted. */
export interface CallbackRequest {
  method: 'GET' | 'POST';
  query: URLSearchParams;
  /** The posted form (Apple's `response_mode=form_post`), already read. */
  form: URLSearchParams | undefined;
}

/** Why a provider's answer gave no identity. */
export type UpstreamFailureKind = 'denied' | 'failed';

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'UpstreamFailure';
  }
}

/**
 * One upstream provider, in a module of its own (src/federation/<provider>.ts),
 * registered from configuration (registry.ts).
 */
export interface FederationProvider {
  /** Its name in identities, addresses and forms. */
  readonly id: string;
  /** As a person knows it, on buttons and pages. */
  readonly displayName: string;
  /** How to start: the address that sends the browser to the provider with `state`; what must be kept goes into `checks`. */
  authorizationUrl(state: string, checks: Checks): Promise<string>;
  /** How to finish: the provider's answer, checked against `checks`, mapped to the identity it vouches for. */
  identityFrom(callback: CallbackRequest, checks: Checks): Promise<UpstreamIdentity>;
}

/** Trims what a provider sent; nothing is kept from an empty or absurdly long value. */
export function cleanText(value: unknown, maxLength = 100): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return text && text.length <= maxLength ? text : undefined;
}

/** An email as providers send it, in NetID's stored form; anything NetID would not take as an email is left out. */
export function cleanEmail(value: unknown): string | undefined {
  return typeof value === 'string' ? normaliseEmail(value) : undefined;
}

/** Splits a display name into first and last, for providers that give only one. */
export function splitName(name: unknown): { first?: string | undefined; last?: string | undefined } {
  const text = cleanText(name, 200);
  if (!text) return {};
  const [first, ...rest] = text.split(/\s+/);
  return { first: cleanText(first), last: cleanText(rest.join(' ')) };
}
