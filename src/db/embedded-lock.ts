import fs from 'node:fs';
import path from 'node:path';

/** Thrown when another process (or another open database in this one) holds the embedded database's folder. */
export class EmbeddedDatabaseInUse extends Error {
  override name = 'EmbeddedDatabaseInUse';
  constructor(
    readonly directory: string,
    readonly pid: number,
  ) {
    super(
      `the embedded database in ${directory} is in use by another NetID process (pid ${pid}). ` +
        'Only one process may open it at a time: stop that process first (a command run while `npm start` is running would have its writes lost), ' +
        'or run NetID and its commands on PostgreSQL (DATABASE_URL), which any number of processes can share.',
    );
  }
}

const LOCK_FILE = 'netid.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists, it only belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(file: string): number | undefined {
  try {
    const pid = Number(JSON.parse(fs.readFileSync(file, 'utf8')).pid);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * PGlite keeps the whole database in one process's memory and writes it back
 * to its folder; a second process opening the same folder works on its own
 * copy, and whichever stops last overwrites the other's changes. So a process
 * takes this lock file (its pid inside) before opening the folder, and gives
 * it back when it closes the database or exits. A lock left by a process that
 * no longer runs (a crash, a kill -9) is taken over at once, so it never
 * stays stuck. Returns the release function.
 */
export function lockEmbeddedDatabase(directory: string): () => void {
  fs.mkdirSync(directory, { recursive: true });
  const file = path.join(directory, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }), { flag: 'wx' });
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        process.off('exit', release);
        fs.rmSync(file, { force: true });
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = holderOf(file);
    if (pid !== undefined && isAlive(pid)) throw new EmbeddedDatabaseInUse(directory, pid);
    // The holder is gone: its lock is stale.
    fs.rmSync(file, { force: true });
  }
  throw new EmbeddedDatabaseInUse(directory, holderOf(file) ?? 0);
}
