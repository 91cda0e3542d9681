// For the knex CLI (e.g. `npx tsx node_modules/knex/bin/cli.js migrate:status`);
// NetID itself migrates with `npm run migrate`, which uses the same list.
import path from 'node:path';
import type { Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { loadConfig } from './src/config/environment.js';
import { migrationSource } from './src/db/migrations.js';

const config = loadConfig();

const knexConfig: Knex.Config = config.databaseUrl
  ? { client: 'pg', connection: config.databaseUrl, migrations: { migrationSource } }
  : {
      client: ClientPgLite as unknown as typeof Knex.Client,
      dialect: 'postgres',
      connection: { filename: path.join(config.dataDir, 'pglite') },
      migrations: { migrationSource },
    };

export default knexConfig;
