import type Router from '@koa/router';
import type { Context } from 'koa';
import { errors } from 'oidc-provider';
import type { InteractionEnvironment } from './environment.js';
import { displayName, type Interaction } from './interaction-kit.js';
import { formField } from '../views/form-fields.js';

const DESCRIBED_SCOPES = ['openid', 'profile', 'email', 'phone', 'membership', 'offline_access'];

/** Records what the person allowed on the grant and resumes the authorization. */
export async function grantConsent(ctx: Context, env: InteractionEnvironment, interaction: Interaction): Promise<void> {
  const { provider, queries } = env.context;
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
  await queries.audit.record({ kind: 'consent.granted', profileId: session!.accountId, clientId: String(params.client_id) });
  await env.kit.finish(ctx, { consent: { grantId } }, true);
}

/** The APIs the client asks to call as the person, named as registered, with the scopes asked for each. */
async function resourceAccess(env: InteractionEnvironment, interaction: Interaction): Promise<{ name: string; scopes: string }[]> {
  const missing = (interaction.prompt.details.missingResourceScopes as Record<string, string[]> | undefined) ?? {};
  const apis = [];
  for (const [indicator, scopes] of Object.entries(missing)) {
    const server = await env.context.queries.resourceServers.find(indicator);
    apis.push({ name: server?.name ?? indicator, scopes: scopes.join(', ') });
  }
  return apis;
}

export async function renderConsent(ctx: Context, env: InteractionEnvironment, interaction: Interaction): Promise<void> {
  const profile = await env.context.queries.profiles.findById(interaction.session!.accountId);
  env.context.views.render(ctx, 'consent', {
    uid: interaction.uid,
    csrf: env.kit.csrfToken(ctx),
    clientName: await env.kit.clientName(interaction),
    profileName: displayName(profile),
    scopes: String(interaction.params.scope ?? 'openid')
      .split(' ')
      .filter((s) => DESCRIBED_SCOPES.includes(s)),
    claims: (interaction.prompt.details.missingOIDCClaims as string[] | undefined) ?? [],
    apis: await resourceAccess(env, interaction),
  });
}

export function registerConsent(router: Router, env: InteractionEnvironment): void {
  router.post('/:uid/consent', env.forms, async (ctx) => {
    const interaction = await env.kit.load(ctx);
    if (!interaction || !env.kit.guard(ctx)) return;
    if (interaction.prompt.name !== 'consent') {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    if (formField(ctx, 'decision') !== 'allow') {
      await env.context.queries.audit.record({
        kind: 'consent.denied',
        profileId: interaction.session?.accountId,
        clientId: String(interaction.params.client_id),
      });
      return env.kit.finish(ctx, { error: 'access_denied', error_description: 'the End-User denied the request' });
    }
    return grantConsent(ctx, env, interaction);
  });
}
