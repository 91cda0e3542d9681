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
  /** The session's uid, which stays while its id changes at each sign-in (src/db/profile-sessions.ts). */
  sessionUid: string;
  /** When the session's last sign-in happened (seconds since the epoch), and what it proved (RFC 8176). */
  signedInAt: number;
  amr: string[];
}

/** How long a sign-in counts as recent for a change that needs one (src/profile/recent-sign-in.ts). */
export const RECENT_SIGN_IN_SECONDS = 5 * 60;

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

export function createNetworkSession(
  provider: Provider,
  profiles: ProfileQueries,
  issuer: string,
  /** Told of each page a signed-in person opens, so the Security page can say when a session was last used. */
  onVisit: (visitor: NetworkVisitor, ip: string) => Promise<void> = async () => {},
) {
  /** Only NetID's own network pages: a crafted address must not make this an open redirect. */
  const safeReturn = (value: unknown) =>
    typeof value === 'string' && /^\/network(\/|$|\?)/.test(value) ? value : '/network';

  return {
    async visitor(ctx: Context): Promise<NetworkVisitor | undefined> {
      const session = await provider.Session.get(ctx as never);
      if (!session.accountId) return undefined;
      const profile = await profiles.findById(session.accountId);
      if (!profile) return undefined;
      return { profile, sessionId: session.jti, sessionUid: session.uid, signedInAt: session.loginTs ?? 0, amr: session.amr ?? [] };
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
        await onVisit(visitor, ctx.ip);
        await next();
      };
    },

    routes(views: Views): Router {
      const router = new Router({ prefix: '/network' });

      const startSignIn = (ctx: Context, prompt?: 'create' | 'login', loginHint?: string) => {
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
          // A fresh sign-in before a change that needs one: the password (and second step) again, whatever the session.
          ...(prompt === 'login' ? { max_age: String(RECENT_SIGN_IN_SECONDS) } : {}),
          ...(loginHint ? { login_hint: loginHint } : {}),
        }).toString();
        ctx.redirect(authorization.toString());
      };

      router.get('/sign-in', async (ctx) => {
        if (ctx.query.fresh !== '1') return startSignIn(ctx);
        const visitor = await this.visitor(ctx);
        return startSignIn(ctx, 'login', visitor?.profile.email ?? visitor?.profile.phone ?? undefined);
      });
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
