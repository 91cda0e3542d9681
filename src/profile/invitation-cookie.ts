import type { Context } from 'koa';

/**
 * The secret of the invitation link a person arrived with, carried from
 * /network/sign-up?invitation=… to the sign-up form of the sign-in that
 * follows (its path), for an hour.
 */
const INVITATION_COOKIE = 'netid.invitation';

export function rememberInvitation(ctx: Context, token: string): void {
  ctx.cookies.set(INVITATION_COOKIE, token, {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    path: '/interaction',
    secure: ctx.secure,
    overwrite: true,
    maxAge: 60 * 60 * 1000,
  });
}

export function invitationOf(ctx: Context): string | undefined {
  return ctx.cookies.get(INVITATION_COOKIE, { signed: true });
}
