import { freeLoopbackPort, startNetidProcess, type ChildServer } from './child-server.js';
import { netidEnvironment } from './netid-environment.js';
import type { Seed, ServerInfo } from './target.js';

export interface NetidFleet {
  info: ServerInfo;
  processes: ChildServer[];
  stop(): Promise<void>;
}

export interface FleetSettings {
  databaseUrl: string;
  keyEncryptionKey: string;
  seed: Seed;
  instances: number;
  cleanupIntervalSeconds: number;
  /** Folder for V8 CPU profiles, one file per process, written when it stops. */
  cpuProfileDir?: string | undefined;
}

/**
 * NetID processes on one database, each on its own loopback port and all with
 * one issuer, as instances behind a load balancer are. The first port stands
 * for the balancer's address in the issuer.
 */
export async function startNetidFleet(settings: FleetSettings): Promise<NetidFleet> {
  const ports: number[] = [];
  for (let i = 0; i < settings.instances; i++) ports.push(await freeLoopbackPort());
  const issuer = `http://127.0.0.1:${ports[0]}`;
  const label = settings.instances === 1 ? 'NetID' : `NetID x${settings.instances}`;
  const nodeArguments = settings.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', settings.cpuProfileDir] : [];

  const processes: ChildServer[] = [];
  const stop = async () => {
    await Promise.all(processes.map((child) => child.stop()));
  };
  try {
    // One after another: the instances must not compete for the two cores while starting.
    for (const [index, port] of ports.entries()) {
      const env = netidEnvironment({
        databaseUrl: settings.databaseUrl,
        keyEncryptionKey: settings.keyEncryptionKey,
        issuer,
        port,
        cleanupIntervalSeconds: settings.cleanupIntervalSeconds,
      });
      processes.push(await startNetidProcess(`${label} #${index + 1}`, { ...env, PORT: String(port) }, nodeArguments));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    info: { kind: 'netid', label, issuer, origins: ports.map((port) => `http://127.0.0.1:${port}`), ...settings.seed },
    processes,
    stop,
  };
}
