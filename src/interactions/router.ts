import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import type { AuditQueries } from '../db/audit.js';
import type { MembershipQueries } from '../db/memberships.js';
import type { Profile, ProfileQueries } from '../db/profiles.js';
import { accountIdOf, skipsConsent } from '../oidc/client-kind.js';
import { ACR } from '../oidc/provider.js';
import type { Csrf } from '../security/csrf.js';
import type { SignInLimits } from '../security/rate-limits.js';
import type { Views } from '../views/render.js';
import { signInWithPassword } from './sign-in.js';

export interface InteractionDependencies {
  provider: Provider;
  views: Views;
  csrf: Csrf;
  profiles: ProfileQueries;
  memberships: MembershipQueries;
  limits: SignInLimits;
  audit: AuditQueries;
  defaultPhoneRegion?: string | undefined;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

const displayName = (profile: Profile | undefined) =>
  profile ? [profile.first_name, profile.last_name].filter(Boolean).join(' ') || profile.email || profile.phone || '' : '';

const formField = (ctx: Context, name: string): string => {
  const value = (ctx.request.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
};

/** The sign-in screen: oidc-provider hands over here whenever a person must act. */
export function createInteractionRouter(deps: InteractionDependencies): Router {
  const { provider, views, csrf } = deps;
  const router = new Router({ prefix: '/interaction' });
  const forms = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });

  /** Loads the interaction, or renders "this page expired" when its cookie or record is gone. */
  async function details(ctx: Context): Promise<Details | undefined> {
    try {
      const found = await provider.interactionDetails(ctx.req, ctx.res);
      if (found.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction mismatch');
      return found;
    } catch (error) {
      if (error instanceof errors.SessionNotFound) {
        views.render(ctx, 'error', { messageKey: 'error.expired' }, 400);
        return undefined;
      }
      throw error;
    }
  }

  async function renderLogin(ctx: Context, interaction: Details, extra: Record<string, unknown> = {}, status = 200) {
    const client = await provider.Client.find(String(interaction.params.client_id));
    views.render(
      ctx,
      'login',
      {
        uid: interaction.uid,
        csrf: csrf.token(ctx),
        clientName: client?.clientName ?? client?.clientId,
        identifier: typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint : '',
        ...extra,
      },
      status,
    );
  }

  async function finish(ctx: Context, result: InteractionResults, merge = false) {
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    // interactionFinished answered with a redirect on the raw response; keep Koa from writing again.
    ctx.respond = false;
  }

  async function grantConsent(ctx: Context, interaction: Details) {
    const { prompt, params, session } = interaction;
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
    if (!grant) throw new errors.SessionNotFound('grant expired');
    const missingScope = prompt.details.missingOIDCScope as string[] | undefined;
    const missingClaims = prompt.details.missingOIDCClaims as string[] | undefined;
    const missingResourceScopes = prompt.details.missingResourceScopes as Record<string, string[]> | undefined;
    if (missingScope) grant.addOIDCScope(missingScope.join(' '));
    if (missingClaims) grant.addOIDCClaims(missingClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await deps.audit.record({ kind: 'consent.granted', profileId: session!.accountId, clientId: String(params.client_id) });
    await finish(ctx, { consent: { grantId } }, true);
  }

  /** Rejects forms without a valid CSRF token with a page, before anything changes. */
  function requireCsrf(ctx: Context): boolean {
    if (csrf.verify(ctx, formField(ctx, 'csrf'))) return true;
    views.render(ctx, 'error', { messageKey: 'error.csrf' }, 403);
    return false;
  }

  router.get('/:uid', async (ctx) => {
    const interaction = await details(ctx);
    if (!interaction) return;
    const client = await provider.Client.find(String(interaction.params.client_id));
    switch (interaction.prompt.name) {
      case 'login':
        return renderLogin(ctx, interaction);
      case 'membership': {
        const profile = await deps.profiles.findById(interaction.session!.accountId);
        const accountId = accountIdOf(client);
        const membership = accountId ? await deps.memberships.find(accountId, profile!.id) : undefined;
        await deps.audit.record({ kind: 'membership.refused', profileId: profile?.id, accountId, clientId: client?.clientId });
        return views.render(
          ctx,
          'refused',
          {
            uid: interaction.uid,
            csrf: csrf.token(ctx),
            accountName: membership?.account_name ?? client?.clientName ?? client?.clientId,
            dismissed: membership?.state === 'dismissed',
            profileName: displayName(profile),
          },
          403,
        );
      }
      case 'consent': {
        if (client && skipsConsent(client)) return grantConsent(ctx, interaction);
        const profile = await deps.profiles.findById(interaction.session!.accountId);
        const scopes = String(interaction.params.scope ?? 'openid')
          .split(' ')
          .filter((s) => ['openid', 'profile', 'email', 'phone', 'membership', 'offline_access'].includes(s));
        return views.render(ctx, 'consent', {
          uid: interaction.uid,
          csrf: csrf.token(ctx),
          clientName: client?.clientName ?? client?.clientId,
          profileName: displayName(profile),
          scopes,
          claims: (interaction.prompt.details.missingOIDCClaims as string[] | undefined) ?? [],
        });
      }
      default:
        return finish(ctx, { error: 'access_denied', error_description: 'unsupported interaction' });
    }
  });

  router.post('/:uid/login', forms, async (ctx) => {
    const interaction = await details(ctx);
    if (!interaction || !requireCsrf(ctx)) return;
    if (interaction.prompt.name !== 'login') {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    const identifier = formField(ctx, 'identifier').slice(0, 320);
    const password = formField(ctx, 'password').slice(0, 1024);
    if (!password) {
      return renderLogin(ctx, interaction, { identifier, errorKey: 'login.password_missing', invalid: 'password' }, 400);
    }
    const result = await signInWithPassword(deps, {
      identifier,
      password,
      ip: ctx.ip,
      clientId: String(interaction.params.client_id),
    });
    switch (result.outcome) {
      case 'invalid-identifier':
        return renderLogin(ctx, interaction, { identifier, errorKey: 'login.identifier_invalid', invalid: 'identifier' }, 400);
      case 'wrong-credentials':
        return renderLogin(ctx, interaction, { identifier, errorKey: 'login.failed', invalid: 'password' }, 401);
      case 'throttled':
        ctx.set('Retry-After', String(result.retryAfterSeconds));
        return renderLogin(
          ctx,
          interaction,
          { identifier, errorKey: 'login.throttled', minutes: Math.ceil(result.retryAfterSeconds / 60) },
          429,
        );
      case 'signed-in':
        return finish(ctx, {
          login: { accountId: result.profile.id, acr: ACR.password, amr: ['pwd'], remember: true },
        });
    }
  });

  router.post('/:uid/consent', forms, async (ctx) => {
    const interaction = await details(ctx);
    if (!interaction || !requireCsrf(ctx)) return;
    if (interaction.prompt.name !== 'consent') {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    if (formField(ctx, 'decision') !== 'allow') {
      await deps.audit.record({ kind: 'consent.denied', profileId: interaction.session?.accountId, clientId: String(interaction.params.client_id) });
      return finish(ctx, { error: 'access_denied', error_description: 'the End-User denied the request' });
    }
    return grantConsent(ctx, interaction);
  });

  router.post('/:uid/abort', forms, async (ctx) => {
    const interaction = await details(ctx);
    if (!interaction || !requireCsrf(ctx)) return;
    const refused = interaction.prompt.name === 'membership';
    return finish(ctx, {
      error: 'access_denied',
      error_description: refused ? 'the End-User is not an active member of this account' : 'the End-User cancelled the sign-in',
    });
  });

  return router;
}
