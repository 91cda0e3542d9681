import { createAccount, type CreatedAccount } from '../../src/accounts/create-account.js';
import { registerClient, type ClientRegistration, type RegisteredClient } from '../../src/clients/register-client.js';
import type { NetidContext } from '../../src/context.js';
import type { Profile } from '../../src/db/profiles.js';
import { hashPassword } from '../../src/security/passwords.js';

let counter = 0;

export interface TestPerson {
  profile: Profile;
  email: string;
  password: string;
}

/** A profile with a confirmed email and a password, as a person who signed up would have. */
export async function createPerson(context: NetidContext, overrides: { firstName?: string; lastName?: string } = {}): Promise<TestPerson> {
  counter += 1;
  const email = `person${counter}.${Date.now()}@example.test`;
  const password = `pass phrase ${counter} for tests`;
  const profile = await context.queries.profiles.insert({
    email,
    emailVerified: true,
    passwordHash: await hashPassword(password),
    firstName: overrides.firstName ?? 'Alex',
    lastName: overrides.lastName ?? `Tester${counter}`,
  });
  return { profile, email, password };
}

export function createTestAccount(context: NetidContext, admin: TestPerson): Promise<CreatedAccount> {
  return createAccount(context.accountDependencies, admin.profile.id);
}

export function createTestClient(context: NetidContext, registration: ClientRegistration): Promise<RegisteredClient> {
  return registerClient(context.db, context.queries.clients, context.accountDependencies.validateClient, registration);
}
