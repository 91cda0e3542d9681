import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { TEST_KEY_ENCRYPTION_KEY } from './netid-server.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface NetidProcess {
  issuer: string;
  /** SIGTERM, as an orchestrator stops NetID; resolves once it exited, with what it wrote to stderr. */
  stop(): Promise<{ code: number | null; stderr: string }>;
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

/** NetID as `npm start` runs it (src/main.ts in its own process), with only the settings given. */
export async function startNetidProcess(env: Record<string, string>, preloads: string[] = []): Promise<NetidProcess> {
  const port = await freeLoopbackPort();
  const issuer = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', ...preloads.flatMap((file) => ['--import', file]), 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      PORT: String(port),
      ISSUER: issuer,
      KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
      DEMO_DATA: 'false',
      LOG_LEVEL: 'info',
      CLEANUP_INTERVAL_SECONDS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('"NetID is listening"')) resolve();
    });
    void exited.then((code) => reject(new Error(`NetID exited (${code}) before listening:\n${stderr}\n${stdout}`)));
  });
  return {
    issuer,
    async stop() {
      child.kill('SIGTERM');
      return { code: await exited, stderr };
    },
  };
}
