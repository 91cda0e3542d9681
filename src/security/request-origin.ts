import type { Middleware } from 'koa';

/**
 * Every URL NetID publishes or redirects to (discovery, JWKS, the endpoints,
 * the sign-in screen's own links) is built from ISSUER, never from what a
 * request says about itself: with `Host: evil.example` a shared cache in front
 * of NetID would otherwise store a discovery document that points relying
 * parties elsewhere. The request is made to look as if it reached ISSUER
 * through a proxy that said so, which is what Koa and oidc-provider read
 * (`ctx.host`, `ctx.protocol`, `ctx.secure`, `ctx.href`). The app must
 * therefore be created with `proxy: true` and `maxIpsCount: proxyHops`.
 *
 * The client address is the one the outermost trusted proxy saw: with
 * `proxyHops` proxies in front, the X-Forwarded-For entry that many places
 * from the right (Koa's `maxIpsCount`); entries further left are the client's
 * own words. Without trusted proxies the header is dropped and the socket's
 * address is the client's.
 */
export function requestOrigin(issuer: string, proxyHops: number): Middleware {
  const { host, protocol } = new URL(issuer);
  const scheme = protocol.slice(0, -1);
  return (ctx, next) => {
    const headers = ctx.req.headers;
    headers.host = host;
    headers['x-forwarded-host'] = host;
    headers['x-forwarded-proto'] = scheme;
    if (proxyHops === 0) delete headers['x-forwarded-for'];
    return next();
  };
}
