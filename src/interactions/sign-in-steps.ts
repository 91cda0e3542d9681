import type { Context } from 'koa';
import type { Profile } from '../db/profiles.js';
import { chooseLocale } from '../i18n/messages.js';
import { acrFor, AMR, withMultipleFactors } from '../oidc/authentication-context.js';
import type { SignInMethod } from '../operations/metrics.js';
import { deviceMarker } from '../sessions/device-marker.js';
import { localeOf } from '../views/render.js';
import type { InteractionEnvironment } from './environment.js';
import type { Interaction } from './interaction-kit.js';

/** The steps a sign-in may have to pass after its first factor. */
export type StepName = 'email-confirmation' | 'second-factor';

/**
 * A sign-in in progress once its first factor (a password, an upstream
 * identity, a passkey) is done: whose it is, what has been proven so far
 * (RFC 8176 `amr` values), which steps are passed and which one is current.
 * Kept on the interaction, so any instance can serve the next request.
 */
export interface SignInProgress {
  profileId: string;
  amr: string[];
  /** The profile was created during this sign-in (prompt=create or "Create for free"). */
  created: boolean;
  /** What the sign-in began with; absent for a step-up, which adds to a sign-in already counted. */
  method?: SignInMethod | undefined;
  passed: StepName[];
  /** The step the person is at; undefined until one is due. */
  current?: StepName | undefined;
}

/** What a step knows when deciding whether it is due. */
export interface StepSituation {
  profile: Profile;
  progress: SignInProgress;
  interaction: Interaction;
}

/** One step of a sign-in, in a module of its own (src/interactions/steps). */
export interface SignInStep {
  name: StepName;
  /** Whether this sign-in must pass this step, judged from the profile, what was proven and the request. */
  due(situation: StepSituation, env: InteractionEnvironment): boolean | Promise<boolean>;
  /** Called once, as the step becomes current: sends a code, say. */
  begin?(ctx: Context, env: InteractionEnvironment, situation: StepSituation): Promise<void>;
  /** Shows the step's page for the current sign-in. */
  render(ctx: Context, env: InteractionEnvironment, interaction: Interaction, progress: SignInProgress): Promise<void>;
}

/**
 * How a request that makes a step current answers: with the step's page
 * itself, which spares the browser a round trip and is what a form post on
 * the sign-in screen does (a reload lands on the step again through
 * /interaction/:uid); or with a redirect to it, for a request whose URL must
 * not be visited twice (an upstream provider's callback) and for sign-up,
 * whose answer must look the same when the email is taken (decoy-code.ts).
 */
export type StepAnswer = 'page' | 'redirect';

/**
 * Moves a sign-in on: to the first step that is due and not yet passed, in
 * the order of `env.steps` (decided in one place, src/interactions/router.ts), or, when none
 * is, hands the login to oidc-provider with what was proven. Every way in
 * ends here; a profile blocked by an operator gets no further.
 */
export async function proceed(
  ctx: Context,
  env: InteractionEnvironment,
  interaction: Interaction,
  profile: Profile,
  progress: SignInProgress,
  answer: StepAnswer,
): Promise<void> {
  if (profile.blocked_at) {
    return env.kit.finish(ctx, { error: 'access_denied', error_description: 'the profile is blocked' });
  }
  for (const step of env.steps) {
    if (progress.passed.includes(step.name)) continue;
    const situation = { profile, progress, interaction };
    if (!(await step.due(situation, env))) continue;
    await step.begin?.(ctx, env, situation);
    const current = { ...progress, current: step.name };
    await env.kit.remember(interaction, current);
    if (answer === 'page') return step.render(ctx, env, interaction, current);
    ctx.redirect(`/interaction/${interaction.uid}`);
    return;
  }
  // Finishing replaces the interaction's result, NetID's progress with it.
  await env.context.services.sessions.rememberDevice({
    profile,
    marker: deviceMarker(ctx),
    created: progress.created,
    userAgent: ctx.get('user-agent') || null,
    ip: ctx.ip || null,
    locale: chooseLocale(profile.locale, () => localeOf(ctx)),
  });
  await env.kit.finish(ctx, {
    login: { accountId: profile.id, acr: acrFor(progress.amr), amr: progress.amr, remember: true },
    // Sign-up answers a prompt=create request (OpenID Connect "Initiating User Registration").
    ...(progress.created ? { create: {} } : {}),
  });
  if (progress.method) env.context.metrics.signInsCompleted.inc({ method: progress.method, factors: progress.amr.includes(AMR.multipleFactors) ? '2' : '1' });
}

/** Marks the current step passed, with what it proved, and moves on; a step's form was posted, so a next one answers as its page. */
export async function passStep(
  ctx: Context,
  env: InteractionEnvironment,
  interaction: Interaction,
  profile: Profile,
  progress: SignInProgress,
  proved: string[] = [],
): Promise<void> {
  const passed: SignInProgress = {
    ...progress,
    passed: [...progress.passed, ...(progress.current ? [progress.current] : [])],
    amr: withMultipleFactors([...progress.amr, ...proved]),
    current: undefined,
  };
  return proceed(ctx, env, interaction, profile, passed, 'page');
}

/** The first factor is done: the sign-in begins its steps with what it proved. */
export function firstFactor(profile: Profile, amr: string[], created = false): SignInProgress {
  return { profileId: profile.id, amr, created, passed: [], method: methodOf(amr) };
}

/** The first factor named by what it proved (RFC 8176): an upstream identity, a password, or else a passkey. */
function methodOf(amr: readonly string[]): SignInMethod {
  if (amr.includes(AMR.federated)) return 'federated';
  return amr.includes(AMR.password) ? 'password' : 'passkey';
}
