import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BackchannelDelivery {
  contentType: string | undefined;
  /** The form body, parsed: a back-channel logout request carries `logout_token`. */
  form: URLSearchParams;
}

export interface BackchannelReceiver {
  /** Where a relying party would listen, on a loopback port of its own. */
  url: string;
  /** Everything posted so far, in order of arrival. */
  deliveries: BackchannelDelivery[];
  /** The next delivery not yet taken; rejects when none arrives in time. */
  next(timeoutMs?: number): Promise<BackchannelDelivery>;
  stop(): Promise<void>;
}

export interface ReceiverBehaviour {
  path?: string;
  /** The status every POST gets; 200 by default, as the spec asks of a receiver that accepted the token. */
  status?: number;
  /** Never answer: a receiver that hangs until the sender gives up. */
  hang?: boolean;
}

/**
 * A relying party's back-channel logout endpoint reduced to a recorder: it
 * answers every POST (with 200 unless told otherwise) and keeps what arrived
 * for the test to inspect.
 */
export async function startBackchannelReceiver(behaviour: ReceiverBehaviour = {}): Promise<BackchannelReceiver> {
  const { path = '/backchannel-logout', status = 200, hang = false } = behaviour;
  const deliveries: BackchannelDelivery[] = [];
  let taken = 0;
  const waiting: Array<() => void> = [];

  const server = http.createServer((request, response) => {
    if (request.method !== 'POST' || new URL(request.url ?? '/', 'http://receiver').pathname !== path) {
      response.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      deliveries.push({
        contentType: request.headers['content-type'],
        form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
      });
      for (const wake of waiting.splice(0)) wake();
      if (hang) return;
      // Back-channel responses must not be cached (OIDC Back-Channel Logout 2.8).
      response.writeHead(status, { 'cache-control': 'no-store' }).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    deliveries,
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (taken >= deliveries.length) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no back-channel request arrived within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return deliveries[taken++]!;
    },
    stop() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
