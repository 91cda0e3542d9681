import type { CreatedAccount } from '../../src/accounts/account-service.js';
import type { ClientRegistration, RegisteredClient } from '../../src/clients/client-service.js';
import type { NetidContext } from '../../src/context.js';
import { OPERATOR } from '../../src/db/audit.js';
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

/** An account administered by `admin`, made as an operator would make it. */
export async function createTestAccount(context: NetidContext, admin: TestPerson): Promise<CreatedAccount> {
  const created = await context.services.accounts.create(admin.profile.id, OPERATOR);
  if (!created.ok) throw new Error(`the account was refused: ${created.problem}`);
  return created;
}

export async function createTestClient(context: NetidContext, registration: ClientRegistration): Promise<RegisteredClient> {
  const registered = await context.services.clients.register(registration, OPERATOR);
  if (!registered.ok) throw new Error(`the client was refused: ${registered.detail}`);
  return registered;
}

/** Puts a profile in an account (active unless invited), as the operator's command does. */
export async function addTestMember(
  context: NetidContext,
  accountId: string,
  profileId: string,
  membership: { role?: 'admin' | 'user'; state?: 'invited' | 'active' } = {},
): Promise<void> {
  const added = await context.services.memberships.add(accountId, profileId, { role: membership.role ?? 'user', state: membership.state ?? 'active' }, OPERATOR);
  if (!added.ok) throw new Error(`the membership was refused: ${added.problem}`);
}

/** Dismisses a member, as the operator's command does. */
export async function dismissAsOperator(context: NetidContext, accountId: string, profileId: string): Promise<void> {
  const dismissed = await context.services.memberships.dismiss(accountId, profileId, OPERATOR);
  if (!dismissed.ok) throw new Error(`the dismissal was refused: ${dismissed.problem}`);
}
