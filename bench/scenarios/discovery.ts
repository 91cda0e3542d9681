import { cannon } from '../load.js';
import type { Scenario } from './scenario.js';

export const discovery: Scenario = {
  name: 'discovery',
  measure: (server, load) =>
    cannon(server.origins, { method: 'GET', path: '/.well-known/openid-configuration', expect: '"issuer"' }, load),
};
