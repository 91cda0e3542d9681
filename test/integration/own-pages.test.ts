import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createOwnPages, type OwnPages } from '../../src/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';

/** A request path for a route, with every parameter filled in. */
const samplePath = (routePath: string) => routePath.replace(/:(\w+)/g, 'sample-$1').replace(/\(\.\*\)/g, '');

/** Every endpoint oidc-provider serves in NetID's configuration, by its route names. */
const PROVIDER_ROUTES = [
  'authorization',
  'token',
  'userinfo',
  'jwks',
  'introspection',
  'revocation',
  'end_session',
  'pushed_authorization_request',
];

describe("which requests NetID's own page routers see", () => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let pages: OwnPages;

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    netid = await startNetid(database.db, { env: { DEMO_DATA: 'true', DEV_OUTBOX: 'true' } });
    pages = createOwnPages(netid.context);
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  test('every route a mounted page router declares is routed to the pages', () => {
    expect(pages.routes.length).toBeGreaterThan(20);
    for (const route of pages.routes) {
      const path = samplePath(route.path);
      expect({ path, own: pages.isOwnPage(path) }).toEqual({ path, own: true });
    }
    // The pages mounted in development only are among them.
    expect(pages.routes.map((route) => route.path)).toEqual(expect.arrayContaining(['/demo/callback', '/dev/outbox', '/network/email']));
  });

  test("oidc-provider's endpoints, and their sub-paths, go straight to oidc-provider", () => {
    const paths = PROVIDER_ROUTES.map((name) => netid.context.provider.pathFor(name));
    expect(paths).toEqual(expect.arrayContaining(['/auth', '/token', '/me', '/jwks', '/session/end']));
    for (const path of [...paths, '/.well-known/openid-configuration', '/token/introspection', '/session/end/confirm', '/auth/resume-uid']) {
      expect({ path, own: pages.isOwnPage(path) }).toEqual({ path, own: false });
    }
    // A page prefix claims whole segments only.
    expect(pages.isOwnPage('/networking')).toBe(false);
  });

  test('a page and an endpoint each answer from the right side', async () => {
    const page = await fetch(`${netid.issuer}/network`, { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/network/sign-in?return=%2Fnetwork');
    const jwks = await fetch(`${netid.issuer}/jwks`);
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });
});
