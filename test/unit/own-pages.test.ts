import { isOwnPage } from '../../src/app.js';

describe("which requests NetID's own routers see", () => {
  test.each([
    '/',
    '/network',
    '/network/sign-in',
    '/interaction/abc/login',
    '/assets/netid.css',
    '/photos/3f1c',
    '/healthz',
    '/readyz',
    '/demo/callback',
    '/dev/outbox',
  ])('%s is a NetID page', (path) => {
    expect(isOwnPage(path)).toBe(true);
  });

  test.each([
    '/token',
    '/token/introspection',
    '/token/revocation',
    '/me',
    '/jwks',
    '/auth',
    '/request',
    '/session/end',
    '/.well-known/openid-configuration',
    '/networking',
    '/healthz/extra',
  ])('%s goes straight to the OpenID Connect endpoints', (path) => {
    expect(isOwnPage(path)).toBe(false);
  });
});
