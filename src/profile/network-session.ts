import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { ClientQueries } from '../db/clients.js';
import type { Profile, ProfileQueries } from '../db/profiles.js';
import { ensureFirstPartyClient } from '../oidc/local-relying-party.js';
import type { Views } from '../views/render.js';
import { rememberInvitation } from './invitation-cookie.js';

export const NETWORK_CLIENT_ID = 'netid-network';
const STATE_COOKIE = 'netid.network';

/** Who is looking at a network-profile page. */
export interface NetworkVisitor {
  profile: Profile;
  /** The oidc-provider session the pages ride on; a password change keeps this one. */
  sessionId: string;
  /** When the person last signed in in this browser (seconds since the epoch). */
  signedInAt: number | undefined;
}

/**
 * The network-profile pages belong to NetID itself, so they are signed in
 * exactly when the network session is: signing out anywhere (end_session,
 * recovery, deletion) signs them out too. To sign in they send the browser
 * through an ordinary authorization request of their own first-party client
 * with `response_type=none` (OAuth 2.0 Multiple Response Types 4), so the
 * whole sign-in screen (email confirmation included) applies and no token is
 * issued that nobody needs.
 */
export function ensureNetworkClient(clients: ClientQueries, issuer: string): Promise<void> {
  return ensureFirstPartyClient(clients, {
    client_id: NETWORK_CLIENT_ID,
    client_name: 'Bitrix24 Network',
    grant_types: [],
    response_types: ['none'],
    redirect_uris: [`${issuer}/network/callback`],
    post_logout_redirect_uris: [`${issuer}/network/signed-out`],
    token_endpoint_auth_method: 'none',
  });
}

export function createNetworkSession(provider: Provider, profiles: ProfileQueries, issuer: string) {
  /** Only NetID's own network pages: a crafted address must not make this an open redirect. */
  const safeReturn = (value: unknown) =>
    typeof value === 'string' && /^\/network(\/|$|\?)/.test(value) ? value : '/network';

  return {
    async visitor(ctx: Context): Promise<NetworkVisitor | undefined> {
      const session = await provider.Session.get(ctx as never);
      if (!session.accountId) return undefined;
      const profile = await profiles.findById(session.accountId);
      return profile ? { profile, sessionId: session.jti, signedInAt: session.loginTs } : undefined;
    },

    /** Middleware: the visitor in `ctx.state.visitor`, or off to the sign-in screen and back. */
    required() {
      return async (ctx: Context, next: Next) => {
        const visitor = await this.visitor(ctx);
        if (!visitor) {
          const back = ctx.method === 'GET' ? ctx.originalUrl : '/network';
          ctx.redirect(`/network/sign-in?return=${encodeURIComponent(back)}`);
          return;
        }
        ctx.state.visitor = visitor;
        await next();
      };
    },

    routes(views: Views): Router {
      const router = new Router({ prefix: '/network' });

      const startSignIn = (ctx: Context, prompt?: 'create' | 'login') => {
        const state = randomBytes(16).toString('base64url');
        const returnTo = safeReturn(ctx.query.return);
        ctx.cookies.set(STATE_COOKIE, `${state}.${Buffer.from(returnTo).toString('base64url')}`, {
          signed: true,
          httpOnly: true,
          sameSite: 'lax',
          path: '/network',
          secure: ctx.secure,
          overwrite: true,
        });
        const authorization = new URL('/auth', issuer);
        authorization.search = new URLSearchParams({
          client_id: NETWORK_CLIENT_ID,
          response_type: 'none',
          scope: 'openid',
          redirect_uri: `${issuer}/network/callback`,
          state,
          ...(prompt ? { prompt } : {}),
        }).toString();
        ctx.redirect(authorization.toString());
      };

      // prompt=login: a fresh sign-in, though the browser is signed in (src/profile/recent-sign-in.ts).
      router.get('/sign-in', (ctx) => startSignIn(ctx, ctx.query.prompt === 'login' ? 'login' : undefined));
      // "Create for free" without a relying party: the same request, asking for the sign-up form (prompt=create).
      router.get('/sign-up', (ctx) => {
        // An invitation's link: the sign-up form starts from the invited address, and the person joins
        // the inviting account (once the address is confirmed) instead of getting an account of their own.
        const invitation = ctx.query.invitation;
        if (typeof invitation === 'string' && /^[A-Za-z0-9_-]{20,100}$/.test(invitation)) rememberInvitation(ctx, invitation);
        return startSignIn(ctx, 'create');
      });

      router.get('/callback', async (ctx) => {
        const stored = ctx.cookies.get(STATE_COOKIE, { signed: true });
        ctx.cookies.set(STATE_COOKIE, null, { path: '/network' });
        const [state, encodedReturn] = stored?.split('.') ?? [];
        // A callback this browser did not start (or a replay) is ignored, as RFC 6749 10.12 asks.
        if (!state || ctx.query.state !== state) {
          ctx.redirect('/network');
          return;
        }
        if (typeof ctx.query.error === 'string') {
          views.render(ctx, 'network/not-signed-in', {}, 200);
          return;
        }
        ctx.redirect(safeReturn(Buffer.from(encodedReturn ?? '', 'base64url').toString('utf8')));
      });

      router.get('/signed-out', (ctx) => views.render(ctx, 'logged-out'));
      return router;
    },
  };
}

export type NetworkSession = ReturnType<typeof createNetworkSession>;
