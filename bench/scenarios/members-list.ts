import { cannon } from '../load.js';
import type { ServerInfo } from '../target.js';
import { accountBackEndToken, originFor } from '../tokens.js';
import type { Scenario } from './scenario.js';

const PAGE = 100;

/** Every page's address, found by walking the list once before the clock starts. */
async function pagePaths(server: ServerInfo, token: string): Promise<string[]> {
  const base = `/api/v1/accounts/${server.largeAccount!.name}/members?limit=${PAGE}`;
  const paths: string[] = [];
  let path: string | undefined = base;
  while (path) {
    paths.push(path);
    const response = await fetch(`${originFor(server, 0)}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const page = (await response.json()) as { next?: string | null };
    if (!response.ok) throw new Error(`${server.label} refused the members list: ${response.status} ${JSON.stringify(page)}`);
    path = page.next ? `${base}&cursor=${encodeURIComponent(page.next)}` : undefined;
  }
  return paths;
}

/**
 * An account's back end reading its members, a page of 100 at a time, over
 * every page of an account with ten thousand members in turn. The bare
 * oidc-provider has no management API, so there is no reference: the target
 * is a latency (p99 under 50 ms at 32 connections).
 */
export const membersList: Scenario = {
  name: 'members_list',
  withoutReference: 'the management API is NetID\'s own; the target is p99 < 50 ms',
  async measure(server, load) {
    const token = await accountBackEndToken(server);
    const paths = await pagePaths(server, token);
    let next = 0;
    return cannon(
      server.origins,
      { method: 'GET', path: paths[0]!, headers: { authorization: `Bearer ${token}` }, expect: '"items":[{' },
      load,
      { nextPath: () => paths[next++ % paths.length]! },
    );
  },
};
