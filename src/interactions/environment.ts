import type { Middleware } from 'koa';
import type { NetidContext } from '../context.js';
import type { InteractionKit } from './interaction-kit.js';

/** What every interaction step is given: the application's parts and the shared steps. */
export interface InteractionEnvironment {
  context: NetidContext;
  kit: InteractionKit;
  /** Parses url-encoded forms (formParser). */
  forms: Middleware;
}
