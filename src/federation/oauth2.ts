import type { StrategyRequest } from './passport-adapter.js';
import type { CallbackRequest, Checks, FederationProvider, UpstreamIdentity } from './provider.js';
import { identityThrough, redirectThrough } from './round-trip.js';

const SESSION_KEY = 'oauth2';

interface KeptState {
  state: string;
  code_verifier?: string | undefined;
}

/**
 * passport-oauth2's state store, in the shape its strategies call (`store`
 * with the PKCE verifier, `verify` with the state the provider sent back):
 * the state is the one NetID chose, and both are kept in the request's
 * `session`, which NetID persists for the round trip.
 */
export const netidStateStore = {
  store(req: StrategyRequest, verifier: string | undefined, _state: unknown, _meta: unknown, callback: (error: Error | null, state?: string) => void): void {
    if (!req.netidState) return callback(new Error('no state was chosen for this round trip'));
    const kept: KeptState = { state: req.netidState, code_verifier: verifier };
    req.session[SESSION_KEY] = kept;
    callback(null, req.netidState);
  },
  verify(req: StrategyRequest, providedState: string, callback: (error: Error | null, ok: string | boolean, info?: unknown) => void): void {
    const kept = req.session[SESSION_KEY] as KeptState | undefined;
    delete req.session[SESSION_KEY];
    if (!kept || kept.state !== providedState) return callback(null, false, { message: 'the state does not match' });
    // A string is the PKCE verifier passport-oauth2 sends with the code; true means the provider was sent no challenge.
    callback(null, kept.code_verifier ?? true);
  },
};

/** What a passport-oauth2 strategy's verify function is given, with the request as first argument. */
export type OAuth2Verify = (req: StrategyRequest, accessToken: string, refreshToken: string, profile: { _json?: Record<string, unknown> }, done: (error: unknown, user?: UpstreamIdentity) => void) => void;

/** Maps the provider's profile to an identity inside the strategy's verify function. */
export function verifyWith(map: (json: Record<string, unknown>) => UpstreamIdentity): OAuth2Verify {
  return (_req, _accessToken, _refreshToken, profile, done) => {
    try {
      done(null, map(profile._json ?? {}));
    } catch (error) {
      done(error);
    }
  };
}

/** A provider speaking plain OAuth 2.0 through a passport-oauth2 strategy (Facebook, X). */
export function oauth2Provider(
  id: string,
  displayName: string,
  callbackUrl: string,
  strategy: { authenticate(this: unknown, request: never, options?: object): unknown },
): FederationProvider {
  return {
    id,
    displayName,
    authorizationUrl: (state: string, checks: Checks) => redirectThrough(strategy, callbackUrl, state, checks),
    identityFrom: (callback: CallbackRequest, checks: Checks) => identityThrough(strategy, callbackUrl, callback, checks),
  };
}
