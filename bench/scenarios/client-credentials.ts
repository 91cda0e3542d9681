import { cannon } from '../load.js';
import { basicAuthorization } from '../target.js';
import type { Scenario } from './scenario.js';

/** A service asking for a token for itself: client authentication and one stored token per request. */
export const clientCredentials: Scenario = {
  name: 'client_credentials',
  measure: (server, load) =>
    cannon(
      server.origins,
      {
        method: 'POST',
        path: '/token',
        headers: {
          authorization: basicAuthorization(server.serviceClient.clientId, server.serviceClient.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
        expect: '"access_token"',
      },
      load,
    ),
};
