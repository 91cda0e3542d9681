// Sends one logout token from a bare oidc-provider with NetID's outgoing fetch,
// in a process of its own: inside jest's sandbox oidc-provider cannot set up its
// guard against special-use addresses, so only a real process shows what it refuses.
// Usage: node --import tsx test/support/backchannel-probe.ts <receiver URL> allow|deny
// Prints one JSON line: {"delivered":true} or {"delivered":false,"reason":"..."}.
import Provider from 'oidc-provider';
import { outgoingFetch } from '../../src/oidc/outgoing-fetch.js';

const [receiverUrl, mode] = process.argv.slice(2);
const provider = new Provider('http://netid.test', {
  fetch: outgoingFetch({ allowPrivateNetworks: mode === 'allow' }),
  features: { backchannelLogout: { enabled: true }, devInteractions: { enabled: false } },
  clients: [
    {
      client_id: 'probe',
      client_secret: 'probe secret that is long enough to be one',
      redirect_uris: ['https://probe.test/callback'],
      backchannel_logout_uri: receiverUrl!,
      backchannel_logout_session_required: true,
    },
  ],
});
const client = (await provider.Client.find('probe')) as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> };
try {
  await client.backchannelLogout('probe-subject', 'probe-session');
  process.stdout.write(`${JSON.stringify({ delivered: true })}\n`);
} catch (error) {
  const failure = error as Error & { cause?: Error };
  process.stdout.write(`${JSON.stringify({ delivered: false, reason: failure.cause?.message ?? failure.message })}\n`);
}
