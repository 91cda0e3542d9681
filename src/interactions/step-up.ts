import type { Context } from 'koa';
import type { InteractionEnvironment } from './environment.js';
import type { Interaction } from './interaction-kit.js';
import { proceed } from './sign-in-steps.js';

/**
 * Whether oidc-provider asks for a sign-in only because the session has not
 * reached the level the request needs (the `acr_level` check,
 * src/oidc/authentication-level.ts): the person is signed in, and the
 * password is not asked again, only what is missing.
 */
export function isStepUp(interaction: Interaction): boolean {
  const reasons = interaction.prompt.reasons ?? [];
  return Boolean(interaction.session?.accountId) && reasons.length > 0 && reasons.every((reason) => reason === 'acr_level');
}

/** Goes on from what the session proved, through the steps that are due for this request. */
export async function beginStepUp(ctx: Context, env: InteractionEnvironment, interaction: Interaction): Promise<boolean> {
  const session = interaction.session!;
  const profile = await env.context.queries.profiles.findById(session.accountId);
  if (!profile) return false;
  const amr = (session as { amr?: string[] }).amr ?? [];
  await proceed(ctx, env, interaction, profile, { profileId: profile.id, amr, created: false, passed: [] }, 'page');
  return true;
}
