import type { AdapterPayload } from 'oidc-provider';
import type { ClaimsSource } from '../db/claims-source.js';

/**
 * Rows read together with a token (src/oidc/model-lookup.ts) and kept for the
 * rest of that request only, for the read oidc-provider makes next: the
 * token's Grant, the Session a token bound to it needs, and on the token
 * endpoint and userinfo the person's claims. An entry is used once, and a
 * grant or session is dropped when the request itself writes it, so no
 * request sees data older than the moment it read the token.
 */
export function createRequestPrefetch() {
  const grants = new WeakMap<object, Map<string, AdapterPayload | undefined>>();
  const sessions = new WeakMap<object, Map<string, AdapterPayload | undefined>>();
  const claims = new WeakMap<object, Map<string, ClaimsSource | undefined>>();

  function put<T>(store: WeakMap<object, Map<string, T>>, request: object, key: string, value: T): void {
    let entries = store.get(request);
    if (!entries) {
      entries = new Map();
      store.set(request, entries);
    }
    entries.set(key, value);
  }

  /** `found` is false when nothing was read ahead; `value` undefined when what was read is that there is none. */
  function take<T>(store: WeakMap<object, Map<string, T>>, request: object | undefined, key: string): { found: boolean; value?: T } {
    const entries = request && store.get(request);
    if (!entries?.has(key)) return { found: false };
    const value = entries.get(key);
    entries.delete(key);
    return { found: true, value };
  }

  const claimsKey = (profileId: string, accountId: string | null | undefined) => `${profileId}:${accountId ?? ''}`;

  return {
    putGrant(request: object, grantId: string, payload: AdapterPayload | undefined): void {
      put(grants, request, grantId, payload);
    },
    takeGrant(request: object | undefined, grantId: string) {
      return take(grants, request, grantId);
    },
    forgetGrant(request: object | undefined, grantId: string): void {
      if (request) grants.get(request)?.delete(grantId);
    },
    putSession(request: object, uid: string, payload: AdapterPayload | undefined): void {
      put(sessions, request, uid, payload);
    },
    takeSession(request: object | undefined, uid: string) {
      return take(sessions, request, uid);
    },
    /** A write of any session in the request: what was read ahead of it may be stale. */
    forgetSessions(request: object | undefined): void {
      if (request) sessions.delete(request);
    },
    putClaims(request: object, profileId: string, accountId: string | null, source: ClaimsSource | undefined): void {
      put(claims, request, claimsKey(profileId, accountId), source);
    },
    /** The claims read for this profile as seen by a client of `accountId` (none for other clients). */
    takeClaims(request: object | undefined, profileId: string, accountId: string | undefined) {
      return take(claims, request, claimsKey(profileId, accountId));
    },
  };
}
