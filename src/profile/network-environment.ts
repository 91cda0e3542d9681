import type { NetidContext } from '../context.js';
import type { NetworkKit } from './network-kit.js';

/** What every network-profile page is given: the application's parts and the shared steps. */
export interface NetworkEnvironment {
  context: NetidContext;
  kit: NetworkKit;
}
