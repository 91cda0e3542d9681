import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { createDatabase, type Database } from '../../src/db/database.js';
import { EmbeddedDatabaseInUse, lockEmbeddedDatabase } from '../../src/db/embedded-lock.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { NETWORK_CLIENT_ID } from '../../src/profile/network-session.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson } from '../support/fixtures.js';
import { startNetid, TEST_KEY_ENCRYPTION_KEY, type RunningNetid } from '../support/netid-server.js';
import { signInToNetwork } from '../support/network.js';
import { UserAgent } from '../support/user-agent.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs `npm run netid -- …` as an operator would, in its own process, with only the settings given. */
function netidCommand(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY, LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('one process at a time on the embedded database', () => {
  const folders: string[] = [];
  const dataDir = () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'netid-data-'));
    folders.push(folder);
    return folder;
  };

  afterAll(() => {
    for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
  });

  test('a second open of the same folder is refused at once, and allowed again once the first is closed', async () => {
    const folder = path.join(dataDir(), 'pglite');
    const first = await createDatabase({ databaseUrl: undefined, pgliteDirectory: folder });
    await first.raw('select 1');
    await expect(createDatabase({ databaseUrl: undefined, pgliteDirectory: folder })).rejects.toThrow(EmbeddedDatabaseInUse);
    await expect(createDatabase({ databaseUrl: undefined, pgliteDirectory: folder })).rejects.toThrow(`in use by another NetID process (pid ${process.pid})`);
    await first.destroy();
    const second = await createDatabase({ databaseUrl: undefined, pgliteDirectory: folder });
    await expect(second.raw('select 1')).resolves.toBeDefined();
    await second.destroy();
  });

  test('a lock left by a process that has died does not keep the folder shut', async () => {
    const folder = path.join(dataDir(), 'pglite');
    const gone = spawn(process.execPath, ['-e', '0']);
    const deadPid = gone.pid!;
    await new Promise((resolve) => gone.on('close', resolve));
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'netid.lock'), JSON.stringify({ pid: deadPid }));
    const release = lockEmbeddedDatabase(folder);
    expect(JSON.parse(fs.readFileSync(path.join(folder, 'netid.lock'), 'utf8')).pid).toBe(process.pid);
    release();
    expect(fs.existsSync(path.join(folder, 'netid.lock'))).toBe(false);
  });

  describe('an operator command while the server runs on ./data', () => {
    let directory: string;
    let db: Database | undefined;
    let netid: RunningNetid | undefined;

    afterEach(async () => {
      await netid?.stop();
      await db?.destroy();
      netid = undefined;
      db = undefined;
    });

    test('is refused with a sentence that says what to do, and writes nothing; once the server stops it works', async () => {
      directory = dataDir();
      db = await createDatabase({ databaseUrl: undefined, pgliteDirectory: path.join(directory, 'pglite') });
      await migrateToLatest(db);
      netid = await startNetid(db);
      const clientsBefore = await db('clients').count({ n: '*' });

      const refused = await netidCommand(['client', 'register', '--name', 'Refused app', '--redirect-uri', 'https://app.example/cb'], { DATA_DIR: directory });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`in use by another NetID process (pid ${process.pid})`);
      expect(refused.stderr).toContain('stop that process first');
      expect(refused.stdout).toBe('');
      expect(await db('clients').count({ n: '*' })).toEqual(clientsBefore);

      await netid.stop();
      netid = undefined;
      await db.destroy();
      db = undefined;
      const registered = await netidCommand(['client', 'register', '--name', 'Later app', '--redirect-uri', 'https://app.example/cb'], { DATA_DIR: directory });
      expect(registered.code).toBe(0);
      const clientId = JSON.parse(registered.stdout).client_id as string;
      db = await createDatabase({ databaseUrl: undefined, pgliteDirectory: path.join(directory, 'pglite') });
      expect(await db('clients').where({ client_id: clientId }).first('client_id')).toEqual({ client_id: clientId });
    });
  });
});

describe('operator commands leave the network pages\' own client alone (postgres)', () => {
  let database: TestDatabase;
  let netid: RunningNetid;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    netid = await startNetid(database.db);
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  test('a command run without the server\'s ISSUER does not move its redirect URI, and /network sign-in keeps working', async () => {
    const before = await netid.context.db('clients').where({ client_id: NETWORK_CLIENT_ID }).first('metadata');
    const listed = await netidCommand(['resource-server', 'list'], { DATABASE_URL: database.databaseUrl! });
    expect(listed.code).toBe(0);
    const registered = await netidCommand(['client', 'register', '--name', 'Another app', '--redirect-uri', 'https://app.example/cb'], { DATABASE_URL: database.databaseUrl! });
    expect(registered.code).toBe(0);
    expect(await netid.context.db('clients').where({ client_id: NETWORK_CLIENT_ID }).first('metadata')).toEqual(before);
    expect((before!.metadata as { redirect_uris: string[] }).redirect_uris).toEqual([`${netid.issuer}/network/callback`]);

    // Let the running server's client cache notice any change, as it would within a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const person = await createPerson(netid.context);
    const page = await signInToNetwork(new UserAgent(netid.issuer), person.email, person.password);
    expect(page.document.querySelector('#profile-name')).not.toBeNull();
  });
});
