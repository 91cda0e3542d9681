import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

const COOKIE = 'netid.device';
/** Browsers keep a cookie at most 400 days; each sign-in renews it. */
const LIFETIME_MS = 400 * 24 * 60 * 60 * 1000;

/**
 * A random marker this browser keeps, so that a sign-in from a browser the
 * profile has never used can be told apart (the profile keeps the markers'
 * hashes, not the markers). Made on the first sign-in in the browser.
 */
export function deviceMarker(ctx: Context): string {
  const existing = ctx.cookies.get(COOKIE);
  const marker = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomBytes(32).toString('base64url');
  ctx.cookies.set(COOKIE, marker, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: LIFETIME_MS, overwrite: true });
  return marker;
}
