import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Middleware } from 'koa';
import type { Metrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

/** Whether an Authorization header carries the bearer token, compared in constant time. */
export function carriesToken(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer +(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return false;
  // Digests, so the comparison takes the same time whatever the length of what was sent.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}

type Answer = { status: 200; contentType: string; body: string } | { status: 401 | 404 };

async function answer(metrics: Metrics, method: string, path: string, authorization: string | undefined, token: string | undefined): Promise<Answer> {
  if (path !== METRICS_PATH || (method !== 'GET' && method !== 'HEAD')) return { status: 404 };
  if (token !== undefined && !carriesToken(authorization, token)) return { status: 401 };
  return { status: 200, contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
}

/**
 * /metrics on the main port, for installations that cannot open another one:
 * only with METRICS_TOKEN, and only when METRICS_PORT is not set. Anything
 * else falls through to the 404 every unknown path gets, so the public port
 * does not even tell that metrics exist.
 */
export function metricsOnMainPort(metrics: Metrics, settings: { port: number | undefined; token: string | undefined }): Middleware {
  const { token } = settings;
  if (settings.port !== undefined || token === undefined) return (_ctx, next) => next();
  return async (ctx, next) => {
    if (ctx.path !== METRICS_PATH) return next();
    const result = await answer(metrics, ctx.method, ctx.path, ctx.get('authorization') || undefined, token);
    ctx.status = result.status;
    ctx.set('Cache-Control', 'no-store');
    if (result.status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
    if (result.status === 200) {
      ctx.type = result.contentType;
      ctx.body = result.body;
    }
  };
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * /metrics on a listen address of its own (METRICS_HOST:METRICS_PORT, loopback
 * by default), which a firewall keeps from the public; METRICS_TOKEN, when set,
 * is asked for there too. It answers nothing else.
 */
export async function startMetricsServer(metrics: Metrics, settings: { host: string; port: number; token: string | undefined }): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://metrics').pathname;
    answer(metrics, request.method ?? 'GET', path, request.headers.authorization, settings.token).then(
      (result) => {
        const headers: Record<string, string> = { 'cache-control': 'no-store' };
        if (result.status === 401) headers['www-authenticate'] = 'Bearer realm="metrics"';
        if (result.status !== 200) return response.writeHead(result.status, headers).end();
        headers['content-type'] = result.contentType;
        response.writeHead(200, headers).end(request.method === 'HEAD' ? undefined : result.body);
      },
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
