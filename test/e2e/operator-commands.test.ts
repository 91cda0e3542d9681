import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { en } from '../../src/i18n/en.js';
import { CommandRefused, runCommand, UsageError, type Values } from '../../src/operator-commands.js';
import { NETWORK_CLIENT_ID } from '../../src/profile/network-session.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, createTestClient, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { alertText } from '../support/network.js';
import { discoverAsClient, signInThroughForms, startAuthorization } from '../support/relying-party.js';
import { isPage, UserAgent } from '../support/user-agent.js';

/** A command's refusal: which problem, or that the command line itself was wrong. */
async function refusal(command: Promise<unknown>): Promise<string> {
  try {
    await command;
  } catch (error) {
    if (error instanceof CommandRefused) return error.problem;
    if (error instanceof UsageError) return `usage: ${error.message}`;
    throw error;
  }
  throw new Error('the command was not refused');
}

/**
 * The commands an operator has for what the management API does, for an
 * installation where both can run (PostgreSQL), or the server is stopped:
 * blocking, secret rotation, deleting clients, closing and removing resource
 * servers, and what each key rotation step says to do next.
 */
describe.each(backends)('operator commands for what the management API does too (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let person: TestPerson;
  let account: CreatedAccount;

  const run = (positionals: string, values: Partial<Values> = {}) => runCommand(netid.context, positionals.split(' '), values as Values);

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    person = await createPerson(netid.context);
    account = await createTestAccount(netid.context, person);
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  async function signIn(agent: UserAgent) {
    const config = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    const redirectUri = (accountClientUris(netid.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;
    const pending = await startAuthorization(config, redirectUri);
    return agent.submit(await agent.page(pending.url.toString()), 'form[action$="/login"]', { identifier: person.email, password: person.password });
  }

  test('profile block and unblock, by email', async () => {
    const blocked = await run('profile block', { email: person.email.toUpperCase() });
    expect(blocked).toEqual({ profile_id: person.profile.id, email: person.email, blocked: true, blocked_at: expect.any(String) });
    const refused = await signIn(new UserAgent(netid.issuer));
    expect(isPage(refused) && alertText(refused)).toContain(en['login.blocked']);

    expect(await run('profile unblock', { email: person.email })).toMatchObject({ blocked: false, blocked_at: null });
    expect(isPage(await signIn(new UserAgent(netid.issuer)))).toBe(false);

    expect(await refusal(run('profile block', { email: 'nobody@example.test' }))).toBe('profile-not-found');
    expect(await refusal(run('profile block'))).toBe('usage: --email is required');
  });

  test('client rotate-secret: the old secret works for the grace, a day unless told', async () => {
    const client = await createTestClient(netid.context, { name: 'Batch', grantTypes: ['client_credentials'] });
    const token = (secret: string) => discoverAsClient(netid.issuer, client.clientId, secret).then((config) => oidc.clientCredentialsGrant(config, {}));

    const rotated = (await run('client rotate-secret', { client: [client.clientId] })) as { client_secret: string; previous_secret_expires_at: string };
    expect(Date.parse(rotated.previous_secret_expires_at) - Date.now()).toBeGreaterThan(24 * 3600 * 1000 - 60_000);
    await expect(token(client.clientSecret!)).resolves.toHaveProperty('access_token');
    await expect(token(rotated.client_secret)).resolves.toHaveProperty('access_token');

    const final = (await run('client rotate-secret', { client: [client.clientId], grace: '0' })) as { client_secret: string; previous_secret_expires_at: null };
    expect(final.previous_secret_expires_at).toBeNull();
    await expect(token(rotated.client_secret)).rejects.toThrow();
    await expect(token(final.client_secret)).resolves.toHaveProperty('access_token');

    expect(await refusal(run('client rotate-secret', { client: [client.clientId], grace: 'an hour' }))).toBe('usage: --grace must be whole seconds');
    expect(await refusal(run('client rotate-secret', { client: [client.clientId], grace: '99999999' }))).toBe('secret-grace-invalid');
    expect(await refusal(run('client rotate-secret', { client: [client.clientId, account.clientId] }))).toBe('usage: --client is required, once');
    expect(await refusal(run('client rotate-secret', { client: [NETWORK_CLIENT_ID] }))).toBe('client-is-public');
    expect(await refusal(run('client rotate-secret', { client: ['no-such-client'] }))).toBe('client-not-found');
  });

  test('client list by kind, and client delete for an operator\'s client only', async () => {
    const service = await createTestClient(netid.context, { name: 'Operations', grantTypes: ['client_credentials'], operator: true });
    const listed = (await run('client list', { kind: 'operator' })) as Array<{ client_id: string; kind: string }>;
    expect(listed.map((client) => client.client_id)).toContain(service.clientId);
    expect(new Set(listed.map((client) => client.kind))).toEqual(new Set(['operator']));
    expect(((await run('client list')) as unknown[]).length).toBeGreaterThan(listed.length);
    expect(await refusal(run('client list', { kind: 'robot' }))).toMatch(/^usage: --kind must be one of/);

    expect(await run('client delete', { client: [service.clientId] })).toEqual({ client_id: service.clientId, deleted: true });
    expect(await refusal(run('client delete', { client: [service.clientId] }))).toBe('client-not-found');
    expect(await refusal(run('client delete', { client: [account.clientId] }))).toBe('client-belongs-to-account');
    expect(await refusal(run('client delete', { client: [NETWORK_CLIENT_ID] }))).toBe('client-built-in');
  });

  test('resource-server disallow and remove; NetID\'s own API is neither', async () => {
    const client = await createTestClient(netid.context, { name: 'Orders app', grantTypes: ['client_credentials'] });
    const identifier = `https://orders-${Date.now()}.example.test/`;
    await run('resource-server register', { identifier, name: 'Orders', scope: ['orders:read'], client: [client.clientId] });
    expect(await run('resource-server disallow', { identifier, client: [client.clientId] })).toMatchObject({ identifier, clientIds: [] });
    expect(await run('resource-server remove', { identifier })).toEqual({ identifier, removed: true });
    expect(await refusal(run('resource-server remove', { identifier }))).toBe('resource-server-not-found');

    const api = `${netid.issuer}/api`;
    expect(await refusal(run('resource-server remove', { identifier: api }))).toBe('resource-server-built-in');
    expect(await refusal(run('resource-server allow', { identifier: api, client: [client.clientId] }))).toBe('resource-server-built-in');
    expect(((await run('resource-server list')) as Array<{ identifier: string }>).map((server) => server.identifier)).toContain(api);
  });

  test('each key rotation step says what to do next, naming the next command', async () => {
    expect(await run('keys add-next')).toMatchObject({ next_step: 'roll every instance, wait for relying parties to refresh JWKS, then "keys promote"' });
    expect(await run('keys promote')).toMatchObject({
      promoted: true,
      next_step: 'roll every instance; wait until tokens signed by the previous key have expired (an hour), then "keys retire"',
    });
    expect(await run('keys retire')).toMatchObject({ retired: 3, next_step: 'roll every instance' });
  });
});
