import { authenticate, strategyRequest, type PassportStrategy } from './passport-adapter.js';
import { UpstreamFailure, type CallbackRequest, type Checks, type UpstreamIdentity } from './provider.js';

/**
 * The first half of a round trip through a passport strategy: it answers a
 * request without a code with a redirect to the provider, having written what
 * it will check the answer against into `checks`.
 */
export async function redirectThrough(strategy: PassportStrategy, callbackUrl: string, state: string, checks: Checks, options: object = {}): Promise<string> {
  const outcome = await authenticate(strategy, strategyRequest({ url: new URL(callbackUrl), session: checks, state }), options);
  if (outcome.kind === 'redirect') return outcome.url;
  throw new UpstreamFailure('failed', 'the provider could not be reached', { cause: outcome.kind === 'error' ? outcome.error : outcome });
}

/** What a strategy's `fail` says when the person said no at the provider. */
const deniedAtProvider = (callback: CallbackRequest) => (callback.form ?? callback.query).get('error') === 'access_denied';

/**
 * The second half: the provider's answer, checked by the strategy against
 * `checks` (state, PKCE, and for OpenID Connect the ID token's signature,
 * issuer, audience, nonce and lifetime), and mapped by the strategy's verify
 * function to the identity the provider vouches for.
 */
export async function identityThrough(
  strategy: PassportStrategy,
  callbackUrl: string,
  callback: CallbackRequest,
  checks: Checks,
  options: object = {},
): Promise<UpstreamIdentity> {
  const url = new URL(callbackUrl);
  url.search = callback.query.toString();
  const outcome = await authenticate(strategy, strategyRequest({ url, method: callback.method, form: callback.form, session: checks }), options);
  switch (outcome.kind) {
    case 'success':
      return outcome.user as UpstreamIdentity;
    case 'fail':
      throw new UpstreamFailure(deniedAtProvider(callback) ? 'denied' : 'failed', 'the provider did not vouch for anyone', { cause: outcome.info });
    case 'error':
      throw new UpstreamFailure(deniedAtProvider(callback) ? 'denied' : 'failed', 'the provider\'s answer was refused', { cause: outcome.error });
    default:
      throw new UpstreamFailure('failed', 'the provider answered with another redirect');
  }
}
