import { randomBytes } from 'node:crypto';
import { cannon } from '../load.js';
import { accountBackEndToken } from '../tokens.js';
import type { Scenario } from './scenario.js';

/**
 * An account's back end inviting people to its ten-thousand-member account
 * by email, each an address without a profile: one transaction with the
 * invitation, its sign-up link in the outbox and the audit record. No
 * reference, as for members_list.
 */
export const memberInvite: Scenario = {
  name: 'member_invite',
  withoutReference: "the management API is NetID's own",
  async measure(server, load) {
    const token = await accountBackEndToken(server);
    // Addresses nobody has, different in every repeat and on every server.
    const run = randomBytes(4).toString('hex');
    let invited = 0;
    return cannon(
      server.origins,
      {
        method: 'POST',
        path: `/api/v1/accounts/${server.largeAccount!.name}/invitations`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{}',
        expect: '"sent":"sign-up-link"',
      },
      load,
      { nextBody: () => JSON.stringify({ address: `invitee-${run}-${invited++}@large.bench.test` }) },
    );
  },
};
