import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Router from '@koa/router';
import { VIEWS_DIRECTORY } from './render.js';

function isPackageRoot(dir: string): boolean {
  const manifest = path.join(dir, 'package.json');
  if (path.dirname(dir) === dir) throw new Error('@simplewebauthn/browser has no package.json above its entry');
  return fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === '@simplewebauthn/browser';
}

/** The browser bundle SimpleWebAuthn ships (a UMD script that defines `SimpleWebAuthnBrowser`), beside its CommonJS entry. */
function webauthnBundle(): Buffer {
  const entry = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
  let dir = path.dirname(entry);
  // The package's own package.json, not the one its script/ folder holds for the module type.
  while (!isPackageRoot(dir)) dir = path.dirname(dir);
  return fs.readFileSync(path.join(dir, 'dist', 'bundle', 'index.umd.min.js'));
}

/**
 * The only scripts NetID's pages run, served by NetID itself: its pages allow
 * scripts from their own origin alone (`default-src 'self'`, no inline
 * script). Read once at start.
 */
export function serveScripts(router: Router): void {
  const scripts: Record<string, Buffer> = {
    '/assets/webauthn.js': webauthnBundle(),
    '/assets/passkeys.js': fs.readFileSync(path.join(VIEWS_DIRECTORY, 'assets', 'passkeys.js')),
  };
  for (const [route, body] of Object.entries(scripts)) {
    router.get(route, (ctx) => {
      ctx.type = 'text/javascript';
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = body;
    });
  }
}
