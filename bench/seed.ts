// Migrates a fresh database and creates what the scenarios need, through the
// operator commands: an account (its client) with an admin, one profile per
// virtual user, each an active member of that account, more members for the
// second-step sign-in, each with an authenticator app, and a service client;
// and a second account with LARGE_ACCOUNT_MEMBERS members, for the management API.
// Prints one JSON line (Seed) and exits. Runs as its own process so that the
// benchmark itself never holds NetID's modules or a pool of its own.
import { accountClientUris } from '../src/accounts/account-address.js';
import { loadConfig } from '../src/config/environment.js';
import { generate } from 'otplib';
import { createNetidContext, type NetidContext } from '../src/context.js';
import { OPERATOR } from '../src/db/audit.js';
import type { Profile } from '../src/db/profiles.js';
import { createLogger } from '../src/logging.js';
import { runCommand, type Values } from '../src/operator-commands.js';
import { hashPassword } from '../src/security/passwords.js';
import { addSignInMembers, fillAccount } from './large-account.js';
import type { Person, SecondStepPerson, Seed } from './target.js';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; bench/run.ts sets it`);
  return value;
}

/**
 * totp_signin's profiles per virtual user: about 1.3 sign-ins a second each,
 * and a profile's code counts once per 30-second step, so 40 keep every code
 * fresh without setting up apps while the clock runs.
 */
const SECOND_STEP_PROFILES_PER_USER = 40;

/** The size of account the members scenarios page through. */
const LARGE_ACCOUNT_MEMBERS = 10_000;

/**
 * Sets up an authenticator app through the same rules as the Security page,
 * confirmed with a code of the current time step, so that the benchmark
 * spends no time of its own on it and its first code is of a later step.
 */
async function setUpAuthenticatorApp(context: NetidContext, profile: Profile): Promise<{ totpSecret: string; lastTimeStep: number }> {
  const begun = await context.services.factors.beginTotp(profile);
  if (!begun.ok) throw new Error(`${profile.email}: the authenticator app was refused (${begun.problem})`);
  const lastTimeStep = Math.floor(Date.now() / 30_000);
  const confirmed = await context.services.factors.confirmTotp(profile.id, await generate({ secret: begun.secret, epoch: lastTimeStep * 30 + 1 }), OPERATOR);
  if (!confirmed.ok) throw new Error(`${profile.email}: the first code was refused (${confirmed.problem})`);
  return { totpSecret: begun.secret, lastTimeStep };
}

async function main(): Promise<void> {
  const peopleCount = Number(requiredEnv('BENCH_PEOPLE'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: requiredEnv('DATABASE_URL'),
    KEY_ENCRYPTION_KEY: requiredEnv('KEY_ENCRYPTION_KEY'),
    MIGRATE_ON_START: 'true',
    DEMO_DATA: 'false',
    LOG_LEVEL: 'warn',
  });
  const context = await createNetidContext(config, createLogger(config.logLevel));
  const command = (positionals: string[], values: Record<string, unknown>) => runCommand(context, positionals, values as Values);
  try {
    const admin: Person = { identifier: 'admin@bench.test', password: 'bench admin pass phrase' };
    await command(['profile', 'create'], { email: admin.identifier, password: admin.password, 'first-name': 'Ada', 'last-name': 'Admin' });
    const account = (await command(['account', 'create'], { admin: admin.identifier })) as { name: string; client_id: string; client_secret: string };

    // Every virtual user has a profile of its own and is an active member of the account, as a real sign-in needs.
    const people: Person[] = [];
    for (let i = 0; i < peopleCount; i++) {
      const person = { identifier: `person${i}@bench.test`, password: `bench pass phrase ${i}` };
      await command(['profile', 'create'], {
        email: person.identifier,
        password: person.password,
        'first-name': 'Bench',
        'last-name': `Person ${i}`,
      });
      await command(['account', 'add-member'], { account: account.name, member: person.identifier });
      people.push(person);
    }
    const service = (await command(['client', 'register'], { name: 'bench-service', 'grant-type': ['client_credentials'] })) as {
      client_id: string;
      client_secret: string;
    };

    // Profiles for the second-step sign-in, each of which signs in at most once per 30-second step.
    const secondStepPassword = 'bench second step pass phrase';
    const secondStepEmails = Array.from({ length: peopleCount * SECOND_STEP_PROFILES_PER_USER }, (_, i) => `second-step${i}@bench.test`);
    await addSignInMembers(requiredEnv('DATABASE_URL'), account.name, secondStepEmails, await hashPassword(secondStepPassword));
    const secondStepPeople: SecondStepPerson[] = [];
    for (const email of secondStepEmails) {
      const profile = await context.queries.profiles.findByIdentifier(email);
      if (!profile) throw new Error(`${email} was not created`);
      secondStepPeople.push({ identifier: email, password: secondStepPassword, ...(await setUpAuthenticatorApp(context, profile)) });
    }

    const largeAdmin = 'large-admin@bench.test';
    await command(['profile', 'create'], { email: largeAdmin, 'first-name': 'Lara', 'last-name': 'Admin' });
    const large = (await command(['account', 'create'], { admin: largeAdmin })) as { name: string; client_id: string; client_secret: string };
    await fillAccount(requiredEnv('DATABASE_URL'), large.name, LARGE_ACCOUNT_MEMBERS);

    const redirectUri = (accountClientUris(config.accountUrlPattern, account.name).redirect_uris as string[])[0]!;
    const metadata = await context.queries.clients.findMetadata(account.client_id);
    const idTokenAlg = String(metadata?.id_token_signed_response_alg ?? 'RS256');
    const seed: Seed = {
      accountClient: { clientId: account.client_id, clientSecret: account.client_secret, redirectUri, idTokenAlg },
      serviceClient: { clientId: service.client_id, clientSecret: service.client_secret },
      people,
      secondStepPeople,
      largeAccount: { name: large.name, clientId: large.client_id, clientSecret: large.client_secret, members: LARGE_ACCOUNT_MEMBERS + 1 },
    };
    process.stdout.write(`${JSON.stringify(seed)}\n`);
  } finally {
    await context.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench seed failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
