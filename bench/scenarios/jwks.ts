import { cannon } from '../load.js';
import type { Scenario } from './scenario.js';

export const jwks: Scenario = {
  name: 'jwks',
  measure: (server, load) => cannon(server.origins, { method: 'GET', path: '/jwks', expect: '"keys"' }, load),
};
