import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/environment.js';
import { createNetidContext } from './context.js';
import { createDatabase, databaseOptions } from './db/database.js';
import { migrateToLatest } from './db/migrations.js';
import { createLogger } from './logging.js';
import { options, runCommand, UsageError } from './operator-commands.js';

const USAGE = `NetID operator command line (npm run netid -- <command> [options])

  migrate                                   apply database migrations
  seed                                      create the demo profile, account and demo client
  profile create --email E [--phone P] [--password-stdin | --password X]
                 [--first-name F] [--last-name L]
  profile block --email E                   no sign-in; every session, grant and token ends,
                                            and the accounts are told (back-channel logout)
  profile unblock --email E
  account create --admin EMAIL              new account with a random name; prints its client
  account add-member --account NAME --member EMAIL [--role user|admin] [--invited]
  account dismiss-member --account NAME --member EMAIL
  account id-token-alg --alg RS256|ES256|EdDSA (--account NAME | --all)
                                            how accounts' clients have their ID tokens signed
  client register --name N [--redirect-uri U ...] [--post-logout-redirect-uri U ...]
                  [--grant-type T ...] [--public] [--first-party] [--operator] [--backchannel-logout-uri U]
  client list [--kind account|operator|first_party|third_party]
  client rotate-secret --client ID [--grace SECONDS]
                                            a new secret; the old one works SECONDS more (a day)
  client delete --client ID                 with every grant and token it holds
  resource-server register --identifier URI --name N --scope S [--scope S ...] [--client ID ...]
                  [--format jwt|opaque] [--alg RS256|ES256|EdDSA] [--ttl SECONDS]
  resource-server allow --identifier URI --client ID [--client ID ...]
  resource-server disallow --identifier URI --client ID [--client ID ...]
  resource-server remove --identifier URI
  resource-server list
  keys list | keys add-next | keys promote | keys retire

Output is JSON on stdout; errors go to stderr with exit status 1 (2 for usage).`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help || parsed.positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return parsed.values.help ? 0 : 2;
  }
  const config = loadConfig();
  // Operator commands speak JSON on stdout; logs would only get in the way of scripts.
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr as never);

  if (parsed.positionals[0] === 'migrate') {
    const db = await createDatabase({ ...databaseOptions(config), logger });
    try {
      const applied = await migrateToLatest(db);
      process.stdout.write(`${JSON.stringify({ applied })}\n`);
      return 0;
    } finally {
      await db.destroy();
    }
  }

  const context = await createNetidContext(config, logger);
  try {
    const result = await runCommand(context, parsed.positionals, parsed.values);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  } finally {
    await context.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof ConfigError ? error.message : `netid: ${(error as Error).message ?? String(error)}`;
    process.stderr.write(`${message}\n`);
    process.exit(1);
  },
);
