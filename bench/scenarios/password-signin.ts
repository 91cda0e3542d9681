import { measureArgon2 } from '../argon2-floor.js';
import { authorizationCodeFlow } from '../browser.js';
import { workers } from '../load.js';
import { originFor, personFor } from '../tokens.js';
import type { Scenario } from './scenario.js';

/**
 * The whole sign-in as a person at a Bitrix24 account goes through it, in a
 * fresh browser each time: /auth, the sign-in form, the password POST, consent
 * skipped for the account's own client, the code, the token exchange. Each
 * virtual user is one profile, so no two share rate-limit counters or rows.
 */
export const passwordSignin: Scenario = {
  name: 'password_signin',
  measure: (server, load) =>
    workers(load.connections, load.duration, async (worker) => {
      const person = personFor(server, worker);
      if (!person) throw new Error(`${server.label} has no people to sign in`);
      await authorizationCodeFlow(server, originFor(server, worker), person, { scope: 'openid profile email' });
    }),
  // The reference signs in without a password, so its figure is argon2id's ceiling instead: as many
  // verifications at once as there are virtual users, every core hashing, nothing else done.
  measureReference: (_server, load) => measureArgon2(load.duration, load.connections),
  async extraFigures(load) {
    return { argon2_one_at_a_time_rps: (await measureArgon2(load.duration, 1)).rps };
  },
};
