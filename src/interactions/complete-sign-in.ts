import type { Context } from 'koa';
import type { Profile } from '../db/profiles.js';
import { ACR } from '../oidc/provider.js';
import { localeOf } from '../views/render.js';
import { chooseLocale } from '../i18n/messages.js';
import type { InteractionEnvironment } from './environment.js';
import type { Interaction } from './interaction-kit.js';

/**
 * The last step of every way in (password, sign-up, recovery): a profile whose
 * email is not confirmed yet confirms it first (product.md 2); then the login
 * is handed to oidc-provider.
 */
export async function completeSignIn(
  ctx: Context,
  env: InteractionEnvironment,
  interaction: Interaction,
  profile: Profile,
  how: { amr: string[]; created: boolean },
): Promise<void> {
  // A profile blocked by an operator signs in no more, whatever way it came in.
  if (profile.blocked_at) {
    return env.kit.finish(ctx, { error: 'access_denied', error_description: 'the profile is blocked' });
  }
  if (profile.email && !profile.email_verified) {
    await env.context.services.profiles.sendEmailConfirmation({ ...profile, email: profile.email }, chooseLocale(profile.locale, () => localeOf(ctx)));
    await env.kit.remember(interaction, { profileId: profile.id, amr: how.amr, created: how.created });
    ctx.redirect(`/interaction/${interaction.uid}`);
    return;
  }
  await env.kit.finish(ctx, {
    login: { accountId: profile.id, acr: ACR.password, amr: how.amr, remember: true },
    // Sign-up answers a prompt=create request (OpenID Connect "Initiating User Registration").
    ...(how.created ? { create: {} } : {}),
  });
}
