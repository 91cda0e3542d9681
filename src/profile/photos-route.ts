import Router from '@koa/router';
import type { PhotoQueries } from '../db/photos.js';
import { PHOTO_SIZES, type PhotoSize } from './profile-photo.js';

/**
 * Photos as relying parties fetch them through the `picture` claim. A new
 * photo gets a new address, so each address is served as immutable and
 * browsers and accounts can cache it for a year.
 */
export function createPhotosRouter(photos: PhotoQueries): Router {
  const router = new Router();
  router.get('/photos/:id', async (ctx) => {
    const requested = Number(ctx.query.size ?? PHOTO_SIZES[0]);
    const size = (PHOTO_SIZES as readonly number[]).includes(requested) ? (requested as PhotoSize) : PHOTO_SIZES[0];
    const photo = await photos.find(String(ctx.params.id), size);
    if (!photo) {
      ctx.status = 404;
      ctx.type = 'text/plain';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = 'no such photo';
      return;
    }
    ctx.type = photo.content_type;
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Content-Security-Policy', "default-src 'none'");
    ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
    // PGlite hands bytea back as a Uint8Array, which Koa would send as JSON.
    ctx.body = Buffer.from(photo.data);
  });
  return router;
}
