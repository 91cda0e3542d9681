import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedRequest {
  /** Which backend (its index in `backends`) answered. */
  backend: number;
  method: string;
  path: string;
  status: number;
}

export interface RoundRobinProxy {
  /** The address relying parties and browsers use: the fleet's one issuer. */
  url: string;
  /** Ports of the instances behind it; `undefined` takes one out of rotation (a rolling restart). */
  backends: (number | undefined)[];
  /** Every request, in order, with the backend that answered it. */
  served: ServedRequest[];
  close(): Promise<void>;
}

/**
 * The load balancer in front of a NetID fleet, reduced to what a test needs:
 * each request goes to the next instance in turn, so consecutive steps of one
 * sign-in land on different instances. The Host header is passed on as sent,
 * so every instance builds its URLs from the proxy's address.
 */
export async function startRoundRobinProxy(): Promise<RoundRobinProxy> {
  const served: ServedRequest[] = [];
  let turn = 0;
  const proxy: RoundRobinProxy = { url: '', backends: [], served, close: async () => {} };

  const server = http.createServer((request, response) => {
    const live = proxy.backends.map((port, index) => ({ port, index })).filter((backend) => backend.port !== undefined);
    if (!live.length) {
      response.writeHead(503).end('no instance in rotation');
      return;
    }
    const { port, index } = live[turn++ % live.length]!;
    const upstream = http.request(
      // A new connection per request: an instance that restarts leaves no dead keep-alive socket behind.
      { host: '127.0.0.1', port, method: request.method, path: request.url, headers: request.headers, agent: false },
      (answer) => {
        served.push({ backend: index, method: request.method ?? 'GET', path: request.url ?? '/', status: answer.statusCode ?? 0 });
        response.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(response);
      },
    );
    upstream.on('error', (error) => {
      if (!response.headersSent) response.writeHead(502);
      response.end(`instance ${index} failed: ${error.message}`);
    });
    request.pipe(upstream);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return proxy;
}
