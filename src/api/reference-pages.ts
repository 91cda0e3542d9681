import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Router from '@koa/router';
import type { Views } from '../views/render.js';
import { VIEWS_DIRECTORY } from '../views/render.js';
import { PROBLEM_CATALOGUE } from './problems.js';

const require = createRequire(import.meta.url);

/** Swagger UI's files, served from the package itself: the reference works with no network beyond NetID. */
function swaggerFile(name: string): Buffer {
  return fs.readFileSync(path.join(path.dirname(require.resolve('swagger-ui-dist/package.json')), name));
}

/**
 * What describes the API to people: the OpenAPI document, a browsable
 * reference (Swagger UI, served locally), and the page every problem type
 * points to. None of them needs a token.
 */
export function registerReferencePages(router: Router, options: { views: Views; document: () => object }): void {
  const assets = new Map<string, { type: string; body: Buffer }>([
    ['swagger-ui.css', { type: 'text/css', body: swaggerFile('swagger-ui.css') }],
    ['swagger-ui-bundle.js', { type: 'text/javascript', body: swaggerFile('swagger-ui-bundle.js') }],
    ['netid-api.css', { type: 'text/css', body: fs.readFileSync(path.join(VIEWS_DIRECTORY, 'api', 'netid-api.css')) }],
    ['reference.js', { type: 'text/javascript', body: fs.readFileSync(path.join(VIEWS_DIRECTORY, 'api', 'reference.js')) }],
  ]);
  const problems = Object.entries(PROBLEM_CATALOGUE)
    .map(([name, { status, title }]) => ({ name, status, title }))
    .sort((a, b) => a.name.localeCompare(b.name));

  router.get('/openapi.json', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = options.document();
  });

  router.get('/docs', (ctx) => {
    // Swagger UI sets styles from script; everything else stays to NetID's own origin.
    ctx.set('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'");
    options.views.render(ctx, 'api/reference');
  });

  router.get('/docs/:file', (ctx) => {
    const asset = assets.get(ctx.params.file!);
    if (!asset) return;
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = asset.body;
  });

  router.get('/problems', (ctx) => {
    ctx.set('Content-Security-Policy', "default-src 'self'; frame-ancestors 'none'");
    options.views.render(ctx, 'api/problems', { problems });
  });
}
