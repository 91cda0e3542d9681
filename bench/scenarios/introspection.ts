import { cannon } from '../load.js';
import { basicAuthorization } from '../target.js';
import { userAccessToken } from '../tokens.js';
import type { Scenario } from './scenario.js';

/** An account's backend checking a person's access token; only an active answer counts. */
export const introspection: Scenario = {
  name: 'introspection',
  async measure(server, load) {
    const token = await userAccessToken(server);
    return cannon(
      server.origins,
      {
        method: 'POST',
        path: '/token/introspection',
        headers: {
          authorization: basicAuthorization(server.accountClient.clientId, server.accountClient.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        expect: '"active":true',
      },
      load,
    );
  },
};
