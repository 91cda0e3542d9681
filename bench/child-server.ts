import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPOSITORY = fileURLToPath(new URL('..', import.meta.url));
const STARTUP_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 15_000;

export interface ChildServer {
  pid: number;
  /** The process's peak resident set (VmHWM), in MiB. */
  peakRssMb(): number;
  /** The process's resident set now (VmRSS), in MiB. */
  rssMb(): number;
  /** Asks the server to stop, then kills it if it does not; safe to call twice. */
  stop(): Promise<void>;
}

function statusLine(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} line in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Every server still running, so that an interrupted benchmark can stop them all. */
const running = new Set<ChildServer>();

export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()));
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs a TypeScript script in its own Node process, loaded through tsx's hook
 * rather than the tsx command, which would put a second process in between
 * and make the pid (and so the RSS read) the wrapper's. `ready` resolves with
 * what the script needs to be reachable, and rejects if the process exits first.
 */
async function startChild<T>(
  name: string,
  script: string,
  env: Record<string, string>,
  nodeArguments: string[],
  ready: (child: ChildProcess, lines: readline.Interface) => Promise<T>,
): Promise<{ child: ChildServer; ready: T }> {
  const process_ = spawn(process.execPath, [...nodeArguments, '--import', 'tsx', path.join(REPOSITORY, script)], {
    cwd: REPOSITORY,
    env: { ...process.env, ...env },
    // stderr stays visible: a server that fails to start says why there.
    stdio: ['ignore', 'pipe', 'inherit'],
  });

  let stopping: Promise<void> | undefined;
  const child: ChildServer = {
    pid: process_.pid!,
    peakRssMb: () => statusLine(process_.pid!, 'VmHWM'),
    rssMb: () => statusLine(process_.pid!, 'VmRSS'),
    stop() {
      stopping ??= (async () => {
        running.delete(child);
        if (process_.exitCode !== null || process_.signalCode !== null) return;
        process_.kill('SIGTERM');
        const killer = setTimeout(() => process_.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited(process_);
        clearTimeout(killer);
      })();
      return stopping;
    },
  };
  running.add(child);

  const lines = readline.createInterface({ input: process_.stdout! });
  try {
    const result = await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} was not ready within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
      const onExit = (code: number | null, signal: string | null) =>
        reject(new Error(`${name} exited before it was ready (${signal ?? `exit code ${code}`})`));
      process_.once('exit', onExit);
      process_.once('error', reject);
      ready(process_, lines).then(
        (value) => {
          clearTimeout(timer);
          process_.off('exit', onExit);
          resolve(value);
        },
        reject,
      );
    });
    // Anything printed from now on is passed on rather than left to fill the pipe.
    lines.on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));
    return { child, ready: result };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** A server that prints one JSON line once it listens (the reference). */
export async function startJsonLineServer<T>(name: string, script: string, env: Record<string, string> = {}): Promise<{ child: ChildServer; info: T }> {
  const { child, ready } = await startChild(name, script, env, [], (_process, lines) =>
    new Promise<T>((resolve, reject) => {
      lines.once('line', (line) => {
        try {
          resolve(JSON.parse(line) as T);
        } catch {
          reject(new Error(`${name} printed something other than its JSON: ${line.slice(0, 200)}`));
        }
      });
    }),
  );
  return { child, info: ready };
}

/**
 * NetID through its own entry point, src/main.ts, as `npm start` runs it;
 * ready once /readyz answers, which means it reaches the database.
 */
export async function startNetidProcess(name: string, env: Record<string, string> & { PORT: string }, nodeArguments: string[] = []): Promise<ChildServer> {
  const origin = `http://127.0.0.1:${env.PORT}`;
  const { child } = await startChild(name, 'src/main.ts', env, nodeArguments, async (process_, lines) => {
    lines.on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));
    while (process_.exitCode === null && process_.signalCode === null) {
      try {
        const response = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(2000) });
        if (response.status === 200) {
          lines.removeAllListeners('line');
          return;
        }
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  return child;
}
