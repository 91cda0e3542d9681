import { createAccount } from '../src/accounts/create-account.js';
import type { NetidContext } from '../src/context.js';
import { ensureDemoClient } from '../src/demo/relying-party.js';
import { hashPassword } from '../src/security/passwords.js';

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
  const { queries } = context;
  await ensureDemoClient(queries.clients, context.config.issuer);
  if (await queries.profiles.findByIdentifier(DEMO_PROFILE.email)) return { created: false };
  const profile = await queries.profiles.insert({
    email: DEMO_PROFILE.email,
    emailVerified: true,
    passwordHash: await hashPassword(DEMO_PROFILE.password),
    firstName: DEMO_PROFILE.firstName,
    lastName: DEMO_PROFILE.lastName,
  });
  const { account } = await createAccount(context.accountDependencies, profile.id);
  return { created: true, accountName: account.name };
}
