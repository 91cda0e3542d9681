import Router from '@koa/router';
import type { Views } from '../views/render.js';
import type { DevOutbox } from './senders.js';

/**
 * GET /dev/outbox: the messages the development outbox kept, newest first,
 * so a person can finish sign-up or recovery with no mail server or SMS
 * gateway. Mount it only when the development outbox exists (never in
 * production): it shows one-time codes to anyone who can reach it.
 */
export function createDevOutboxRouter(devOutbox: DevOutbox, views: Views): Router {
  const router = new Router();
  router.get('/dev/outbox', (ctx) => {
    ctx.set('X-Robots-Tag', 'noindex');
    views.render(ctx, 'dev-outbox', { entries: devOutbox.entries() });
  });
  return router;
}
