import multer from '@koa/multer';
import type Router from '@koa/router';
import { formField, formCheckbox } from '../views/form-fields.js';
import type { Context } from 'koa';
import type { MessageKey } from '../i18n/messages.js';
import { personActor } from '../operations/request-actor.js';
import type { NamesErrors } from './edit-profile.js';
import { PROFILE_PROBLEMS } from './profile-service.js';
import type { NetworkEnvironment } from './network-environment.js';
import { visitorOf } from './network-kit.js';
import { PHOTO_MAX_BYTES } from './profile-photo.js';

/** Edit profile (product.md 3): names with the option to update every connected account, and the photo. */
export function registerEditProfile(router: Router, env: NetworkEnvironment): void {
  const { context, kit } = env;
  const profiles = context.services.profiles;
  // One file, in memory (it is resized before anything is stored), refused past the limit while it streams in.
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: PHOTO_MAX_BYTES, files: 1, fields: 5, parts: 6 } }).single('photo');

  const render = (
    ctx: Context,
    extra: { values?: Record<string, string>; propagate?: boolean; errors?: NamesErrors; photoErrorKey?: MessageKey } = {},
    status = 200,
  ) => {
    const { profile } = visitorOf(ctx);
    kit.render(
      ctx,
      'edit-profile',
      {
        values: extra.values ?? { firstName: profile.first_name, lastName: profile.last_name },
        propagate: extra.propagate ?? true,
        errors: extra.errors ?? {},
        photoErrorKey: extra.photoErrorKey,
        photoUrl: profile.photo ? `/photos/${profile.photo}?size=100` : undefined,
        maxMegabytes: PHOTO_MAX_BYTES / (1024 * 1024),
      },
      status,
    );
  };

  router.get('/profile', (ctx) => render(ctx));

  router.post('/profile', kit.forms, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const values = { firstName: formField(ctx, 'first_name', 200), lastName: formField(ctx, 'last_name', 200) };
    const propagate = formCheckbox(ctx, 'propagate');
    const { profile } = visitorOf(ctx);
    const result = await profiles.updateNames(profile.id, values, propagate, personActor(ctx, profile.id));
    if (!result.ok) return render(ctx, { values, propagate, errors: result.fields as NamesErrors }, 400);
    kit.done(ctx, '/network/profile', propagate ? 'done.names_everywhere' : 'done.names');
  });

  router.post('/profile/photo', async (ctx) => {
    try {
      await upload(ctx, async () => {});
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'LIMIT_FILE_SIZE') return render(ctx, { photoErrorKey: 'photo.too_large' }, 413);
      if (typeof code === 'string' && code.startsWith('LIMIT_')) return render(ctx, { photoErrorKey: 'photo.missing' }, 400);
      return render(ctx, { photoErrorKey: 'photo.unreadable' }, 400);
    }
    if (!kit.guard(ctx)) return;
    const file = (ctx as Context & { file?: { buffer: Buffer } }).file;
    if (!file?.buffer.length) return render(ctx, { photoErrorKey: PROFILE_PROBLEMS['photo-missing'].messageKey }, 400);
    const { profile } = visitorOf(ctx);
    const result = await profiles.setPhoto(profile.id, file.buffer, personActor(ctx, profile.id));
    if (!result.ok) return render(ctx, { photoErrorKey: PROFILE_PROBLEMS[result.problem].messageKey }, 400);
    kit.done(ctx, '/network/profile', 'done.photo');
  });
}
