import type { Middleware } from 'koa';
import type { NetidContext } from '../context.js';
import type { InteractionKit } from './interaction-kit.js';
import type { SignInStep } from './sign-in-steps.js';

/** What every interaction step is given: the application's parts and the shared steps. */
export interface InteractionEnvironment {
  context: NetidContext;
  kit: InteractionKit;
  /** Parses url-encoded forms (formParser). */
  forms: Middleware;
  /** The steps a sign-in passes after its first factor, in order (src/interactions/sign-in-steps.ts). */
  steps: readonly SignInStep[];
}
