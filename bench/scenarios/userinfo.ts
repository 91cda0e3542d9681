import { cannon } from '../load.js';
import { userAccessToken } from '../tokens.js';
import type { Scenario } from './scenario.js';

/** An account reading the signed-in person's claims with the bearer token from a code flow. */
export const userinfo: Scenario = {
  name: 'userinfo',
  async measure(server, load) {
    const token = await userAccessToken(server);
    return cannon(server.origins, { method: 'GET', path: '/me', headers: { authorization: `Bearer ${token}` }, expect: '"sub"' }, load);
  },
};
