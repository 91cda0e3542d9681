import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

const COOKIE = 'netid.csrf';

/**
 * Double-submit tokens bound to a per-browser random cookie: a form carries
 * HMAC(key, cookie), which another site can neither read nor compute.
 * The cookie is SameSite=Lax and httpOnly; the token is not the cookie itself.
 */
export function createCsrf(key: Buffer) {
  const sign = (value: string) => createHmac('sha256', key).update(value).digest('base64url');

  return {
    /** The token to embed in a form, setting the browser's cookie on first use. */
    token(ctx: Context): string {
      let value = ctx.cookies.get(COOKIE);
      if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) {
        value = randomBytes(32).toString('base64url');
        ctx.cookies.set(COOKIE, value, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, overwrite: true });
      }
      return sign(value);
    },

    verify(ctx: Context, submitted: unknown): boolean {
      const value = ctx.cookies.get(COOKIE);
      if (!value || typeof submitted !== 'string') return false;
      const expected = Buffer.from(sign(value));
      const given = Buffer.from(submitted);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}

export type Csrf = ReturnType<typeof createCsrf>;
