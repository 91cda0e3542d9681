/**
 * oidc-provider's endpoints a browser is sent to (authorization, end session
 * and their sub-paths), as opposed to those a relying party's back end calls
 * (token, introspection, revocation, userinfo, PAR, JWKS, discovery). A browser
 * gets an error page, a back end a JSON error (RFC 6749 5.2).
 */
const BROWSER_ENDPOINT = /^\/(?:auth|session\/end)(?:\/|$)/;

export function isBrowserEndpoint(path: string): boolean {
  return BROWSER_ENDPOINT.test(path);
}

/** Where a browser may POST a form-encoded request that OpenID Connect lets it send as GET too. */
export const POSTABLE_BROWSER_ENDPOINTS = new Set(['/auth', '/session/end']);
