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

/**
 * A relying party's back-channel logout endpoint reduced to a recorder: it
 * answers every POST with 200, as the spec asks of a receiver that accepted
 * the token, and keeps what arrived for the test to inspect.
 */
export async function startBackchannelReceiver(path = '/backchannel-logout'): Promise<BackchannelReceiver> {
  const deliveries: BackchannelDelivery[] = [];
  let taken = 0;
  const waiting: Array<() => void> = [];

  const server = http.createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== path) {
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
      // Back-channel responses must not be cached (OIDC Back-Channel Logout 2.8).
      response.writeHead(200, { 'cache-control': 'no-store' }).end();
      for (const wake of waiting.splice(0)) wake();
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
