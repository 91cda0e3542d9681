import type { NetidContext } from '../src/context.js';
import { NETID } from '../src/db/audit.js';
import { ensureDemoClient } from '../src/demo/relying-party.js';

export const DEMO_PROFILE = {
  email: 'demo@netid.test',
  password: 'correct horse battery staple',
  firstName: 'Dana',
  lastName: 'Demo',
};

/**
 * Demo data for a first start: one profile that administers one account, and
 * the demo relying party. Runs again harmlessly: existing data is left alone.
 */
export async function seed(context: NetidContext): Promise<{ created: boolean; accountName?: string }> {
  const { services } = context;
  await ensureDemoClient(context.queries.clients, context.config.issuer);
  if (await services.profiles.findByIdentifier(DEMO_PROFILE.email)) return { created: false };
  const created = await services.profiles.create(DEMO_PROFILE, NETID);
  if (!created.ok) throw new Error(`the demo profile was refused: ${created.problem}`);
  const account = await services.accounts.create(created.profile.id, NETID);
  if (!account.ok) throw new Error(`the demo account was refused: ${account.problem}`);
  return { created: true, accountName: account.account.name };
}
