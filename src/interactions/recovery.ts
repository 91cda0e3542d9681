import type Router from '@koa/router';
import type { InteractionEnvironment } from './environment.js';

/** "Forgot password": filled in by the recovery feature. */
export function registerRecovery(_router: Router, _env: InteractionEnvironment): void {}
