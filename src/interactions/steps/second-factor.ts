import type Router from '@koa/router';
import type { Context } from 'koa';
import { hasSecondFactor, FACTOR_PROBLEMS, type EnrolledFactors } from '../../factors/factor-service.js';
import type { MessageKey } from '../../i18n/messages.js';
import { ACR, AMR, reaches, stronger, type AcrValue } from '../../oidc/authentication-context.js';
import { accountDemandFrom, requiredLevel } from '../../oidc/authentication-level.js';
import { accountIdOf } from '../../oidc/client-kind.js';
import { personActor } from '../../operations/request-actor.js';
import { formField } from '../../views/form-fields.js';
import type { InteractionEnvironment } from '../environment.js';
import { isDecoy, type Interaction } from '../interaction-kit.js';
import { passStep, type SignInProgress, type SignInStep, type StepSituation } from '../sign-in-steps.js';

/** What the sign-in still has to prove, and with what the profile can prove it. */
interface Need {
  level: AcrValue;
  enrolled: EnrolledFactors;
}

/**
 * The level this sign-in must reach: what the relying party asked for, what
 * its account demands (src/oidc/authentication-level.ts, the same rule the
 * login check applies to a session), and two factors for a profile that has
 * a second factor. Undefined once what was proven reaches it.
 */
async function needOf(env: InteractionEnvironment, interaction: Interaction, profileId: string, amr: readonly string[]): Promise<Need | undefined> {
  const known = judged.get(interaction);
  if (known && known.profileId === profileId && known.amr === amr.join(' ')) return known.need;
  const need = await judgeNeed(env, interaction, profileId, amr);
  judged.set(interaction, { profileId, amr: amr.join(' '), need });
  return need;
}

/**
 * What needOf last found for an interaction loaded by the request at hand,
 * so the page of a step that just became due does not ask the database again.
 */
const judged = new WeakMap<Interaction, { profileId: string; amr: string; need: Need | undefined }>();

async function judgeNeed(env: InteractionEnvironment, interaction: Interaction, profileId: string, amr: readonly string[]): Promise<Need | undefined> {
  const { provider, queries, services } = env.context;
  const client = await provider.Client.find(String(interaction.params.client_id));
  const [requested, enrolled] = await Promise.all([
    requiredLevel(interaction.params, accountIdOf(client), accountDemandFrom(queries.accounts)),
    services.factors.enrolled(profileId),
  ]);
  const level = stronger(requested, hasSecondFactor(enrolled) ? ACR.twoFactors : undefined);
  return level && !reaches(amr, level) ? { level, enrolled } : undefined;
}

export async function renderSecondFactor(
  ctx: Context,
  env: InteractionEnvironment,
  interaction: Interaction,
  progress: SignInProgress,
  extra: { errorKey?: MessageKey; seconds?: number; invalid?: 'totp' | 'recovery' } = {},
  status = 200,
): Promise<void> {
  const need = await needOf(env, interaction, progress.profileId, progress.amr);
  const enrolled = need?.enrolled ?? (await env.context.services.factors.enrolled(progress.profileId));
  const phishingResistant = need?.level === ACR.phishingResistant;
  const ways = {
    totp: enrolled.totp && !phishingResistant,
    passkey: enrolled.passkeys > 0,
    recovery: enrolled.recoveryCodes > 0 && !phishingResistant,
  };
  env.context.views.render(
    ctx,
    'second-factor',
    {
      uid: interaction.uid,
      csrf: env.kit.csrfToken(ctx),
      clientName: await env.kit.clientName(interaction),
      ways,
      none: !ways.totp && !ways.passkey && !ways.recovery,
      phishingResistant,
      ...extra,
    },
    status,
  );
}

/**
 * The second step of a sign-in (product.md: TOTP and passkeys, recovery codes
 * standing in for them): due for a profile that has a second factor, for a
 * relying party that asks for more than one factor, and for an account that
 * requires two of everyone. A passkey used without a password already proved
 * two, so it is not due then.
 */
export const secondFactor: SignInStep = {
  name: 'second-factor',
  due: async ({ profile, progress, interaction }: StepSituation, env) => Boolean(await needOf(env, interaction, profile.id, progress.amr)),
  render: (ctx, env, interaction, progress) => renderSecondFactor(ctx, env, interaction, progress),
};

/** The authenticator code, a recovery code, a passkey, or giving up. */
export function registerSecondFactor(router: Router, env: InteractionEnvironment): void {
  const { context, kit } = env;
  const { factors } = context.services;

  /** The sign-in at this step, or back to wherever it is. */
  async function atStep(ctx: Context, form: boolean): Promise<{ interaction: Interaction; progress: SignInProgress } | undefined> {
    const interaction = await kit.load(ctx);
    if (!interaction || (form && !kit.guard(ctx))) return undefined;
    const pending = kit.pending(interaction);
    if (!pending || isDecoy(pending) || pending.current !== 'second-factor') {
      if (form) ctx.redirect(`/interaction/${interaction.uid}`);
      else ctx.status = 409;
      return undefined;
    }
    return { interaction, progress: pending };
  }

  async function proved(ctx: Context, interaction: Interaction, progress: SignInProgress, amr: string[]): Promise<void> {
    const profile = await context.queries.profiles.findById(progress.profileId);
    if (!profile) return kit.finish(ctx, { error: 'access_denied', error_description: 'the profile no longer exists' });
    return passStep(ctx, env, interaction, profile, progress, amr);
  }

  router.post('/:uid/second-factor/totp', env.forms, async (ctx) => {
    const at = await atStep(ctx, true);
    if (!at) return;
    const actor = personActor(ctx, at.progress.profileId, String(at.interaction.params.client_id));
    const checked = await factors.verifyTotp(at.progress.profileId, formField(ctx, 'code', 32), actor);
    if (checked.ok) return proved(ctx, at.interaction, at.progress, [AMR.oneTimePassword]);
    if (checked.retryAfterSeconds) ctx.set('Retry-After', String(checked.retryAfterSeconds));
    const { status, messageKey } = FACTOR_PROBLEMS[checked.problem];
    return renderSecondFactor(ctx, env, at.interaction, at.progress, { errorKey: messageKey, seconds: checked.retryAfterSeconds, invalid: 'totp' }, status);
  });

  router.post('/:uid/second-factor/recovery-code', env.forms, async (ctx) => {
    const at = await atStep(ctx, true);
    if (!at) return;
    const actor = personActor(ctx, at.progress.profileId, String(at.interaction.params.client_id));
    const used = await factors.useRecoveryCode(at.progress.profileId, formField(ctx, 'code', 64), actor);
    // A recovery code stands in for the second factor: a one-time password the person kept.
    if (used.ok) return proved(ctx, at.interaction, at.progress, [AMR.oneTimePassword]);
    if (used.retryAfterSeconds) ctx.set('Retry-After', String(used.retryAfterSeconds));
    const { status, messageKey } = FACTOR_PROBLEMS[used.problem];
    return renderSecondFactor(ctx, env, at.interaction, at.progress, { errorKey: messageKey, seconds: used.retryAfterSeconds, invalid: 'recovery' }, status);
  });

  router.get('/:uid/second-factor/passkey-options', async (ctx) => {
    const at = await atStep(ctx, false);
    if (!at) return;
    const { options, challenge } = await factors.passkeyAuthenticationOptions(at.progress.profileId);
    await kit.rememberPasskeyChallenge(at.interaction, challenge);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = options;
  });

  router.post('/:uid/second-factor/passkey', env.forms, async (ctx) => {
    const at = await atStep(ctx, true);
    if (!at) return;
    const challenge = kit.passkeyChallenge(at.interaction) ?? '';
    await kit.rememberPasskeyChallenge(at.interaction, undefined);
    const actor = personActor(ctx, at.progress.profileId, String(at.interaction.params.client_id));
    const checked = await factors.authenticatePasskey({ response: formField(ctx, 'credential', 64 * 1024), challenge, profileId: at.progress.profileId }, actor);
    if (checked.ok) return proved(ctx, at.interaction, at.progress, checked.amr);
    return renderSecondFactor(ctx, env, at.interaction, at.progress, { errorKey: FACTOR_PROBLEMS[checked.problem].messageKey }, 400);
  });

  // Without the second factor the relying party learns why, and can say so (OpenID Connect Core 3.1.2.6).
  router.post('/:uid/second-factor/give-up', env.forms, async (ctx) => {
    const at = await atStep(ctx, true);
    if (!at) return;
    await context.queries.audit.record({ kind: 'signin.second_factor_missing', profileId: at.progress.profileId, clientId: String(at.interaction.params.client_id), actor: personActor(ctx, at.progress.profileId) });
    await kit.remember(at.interaction, undefined);
    return kit.finish(ctx, { error: 'unmet_authentication_requirements', error_description: 'the End-User did not complete the second factor' });
  });
}
