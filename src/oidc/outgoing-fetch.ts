/** oidc-provider's `fetch` option: the signature it calls its fetch helper with. */
export type OutgoingFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * The `fetch` oidc-provider makes its outgoing requests with (back-channel
 * logout, a client's jwks_uri). Before each call oidc-provider puts its own
 * `dispatcher` into the options, one that refuses connections to loopback,
 * private and other special-use addresses (SSRF protection,
 * lib/helpers/fetch_request.js).
 *
 * By default that guard stays, and a request that arrives without it is
 * refused: oidc-provider only warns when it cannot set the guard up (as
 * inside jest's sandbox), and NetID would rather fail than reach an internal
 * address unguarded. With `allowPrivateNetworks` the guard is dropped, for
 * installations whose accounts listen on a private network.
 */
export function outgoingFetch(options: { allowPrivateNetworks: boolean }): OutgoingFetch {
  if (options.allowPrivateNetworks) {
    return (input, init = {}) => {
      const { dispatcher: _guard, ...unguarded } = init as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(input, unguarded);
    };
  }
  return async (input, init = {}) => {
    if (!(init as { dispatcher?: unknown }).dispatcher) {
      throw new Error('outgoing request refused: oidc-provider could not set up its guard against special-use addresses (OUTGOING_PRIVATE_NETWORKS=allow lifts the need for it)');
    }
    return globalThis.fetch(input, init);
  };
}
