import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { outgoingFetch } from '../../src/oidc/outgoing-fetch.js';
import { startBackchannelReceiver, type BackchannelReceiver } from '../support/backchannel-receiver.js';

const run = promisify(execFile);
const PROBE = path.resolve('test/support/backchannel-probe.ts');

/** Runs the probe in a real Node process, where oidc-provider's guard against special-use addresses is in place. */
async function probe(url: string, mode: 'allow' | 'deny'): Promise<{ delivered: boolean; reason?: string }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', PROBE, url, mode], { timeout: 30_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe("NetID's outgoing fetch (OUTGOING_PRIVATE_NETWORKS)", () => {
  let receiver: BackchannelReceiver;

  beforeAll(async () => {
    receiver = await startBackchannelReceiver();
  });

  afterAll(async () => {
    await receiver?.stop();
  });

  const post = (fetch: ReturnType<typeof outgoingFetch>, init: RequestInit & { dispatcher?: unknown }) =>
    fetch(receiver.url, { method: 'POST', body: new URLSearchParams({ logout_token: 'x' }), ...init });

  test('in a real process, the default refuses a loopback receiver and allow reaches it', async () => {
    const before = receiver.deliveries.length;
    const denied = await probe(receiver.url, 'deny');
    expect(denied).toEqual({ delivered: false, reason: 'hostname resolves to a special-use IP address' });
    expect(receiver.deliveries).toHaveLength(before);

    expect(await probe(receiver.url, 'allow')).toEqual({ delivered: true });
    const delivery = await receiver.next();
    expect(delivery.form.get('logout_token')).toEqual(expect.any(String));
  });

  test("allow drops oidc-provider's guard and reaches the address", async () => {
    // A dispatcher that cannot dispatch: the request only arrives if it was left out.
    const guard = { dispatch: () => { throw new Error('the guard was used'); } };
    const response = await post(outgoingFetch({ allowPrivateNetworks: true }), { dispatcher: guard });
    expect(response.status).toBe(200);
    expect((await receiver.next()).form.get('logout_token')).toBe('x');
  });

  test('deny refuses to send a request that comes without the guard, rather than send it unguarded', async () => {
    const before = receiver.deliveries.length;
    await expect(post(outgoingFetch({ allowPrivateNetworks: false }), {})).rejects.toThrow(/guard against special-use addresses/);
    expect(receiver.deliveries).toHaveLength(before);
  });
});
