import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { runCommand, UsageError, type Values } from '../../src/operator-commands.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, createTestClient, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { exchangeCode, signInThroughForms, startAuthorization } from '../support/relying-party.js';
import { isPage, UserAgent } from '../support/user-agent.js';

const algOf = (idToken: string | undefined) => decodeProtectedHeader(idToken!).alg;

describe.each(backends)('ID tokens are signed per kind of client (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let person: TestPerson;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    person = await createPerson(netid.context);
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  /**
   * A relying party that insists on one algorithm and checks every ID token's
   * signature against NetID's JWKS, as openid-client does with non-repudiation checks.
   */
  function strictClient(clientId: string, clientSecret: string, alg: string) {
    return oidc.discovery(new URL(netid.issuer), clientId, { id_token_signed_response_alg: alg }, oidc.ClientSecretBasic(clientSecret), {
      execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
    });
  }

  const redirectOf = (account: CreatedAccount) =>
    (accountClientUris(netid.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;

  async function signInToAccount(client: oidc.Configuration, account: CreatedAccount, agent = new UserAgent(netid.issuer)) {
    const pending = await startAuthorization(client, redirectOf(account), { scope: 'openid email offline_access', prompt: 'consent' });
    return exchangeCode(client, await signInThroughForms(agent, pending.url, person.email, person.password), pending);
  }

  test("an account's client gets ES256 ID tokens that verify against the JWKS, after a refresh too", async () => {
    const account = await createTestAccount(netid.context, person);
    expect((await netid.context.queries.clients.findMetadata(account.clientId))!.id_token_signed_response_alg).toBe('ES256');
    const client = await strictClient(account.clientId, account.clientSecret, 'ES256');

    const tokens = await signInToAccount(client, account);
    expect(algOf(tokens.id_token)).toBe('ES256');
    expect(tokens.claims()).toMatchObject({ sub: person.profile.id, aud: account.clientId });

    // The refresh response keeps its ID token (OpenID Connect Core 12.2), signed the same way.
    const refreshed = await oidc.refreshTokenGrant(client, tokens.refresh_token!);
    expect(refreshed.id_token).toBeDefined();
    expect(algOf(refreshed.id_token)).toBe('ES256');
    expect(refreshed.claims()).toMatchObject({ sub: person.profile.id, aud: account.clientId });
  });

  test('discovery keeps RS256 first among the algorithms it advertises', async () => {
    const metadata = (await (await fetch(`${netid.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
    expect(metadata.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'ES256']));
  });

  test('a first-party and a third-party client still get RS256', async () => {
    const redirectUri = 'https://app.example.test/callback';
    const firstParty = await createTestClient(netid.context, { name: 'Operator app', redirectUris: [redirectUri], firstParty: true });
    const thirdParty = await createTestClient(netid.context, { name: 'Calendar Sync', redirectUris: [redirectUri] });
    const agent = new UserAgent(netid.issuer);

    const first = await strictClient(firstParty.clientId, firstParty.clientSecret!, 'RS256');
    const pending = await startAuthorization(first, redirectUri);
    const firstTokens = await exchangeCode(first, await signInThroughForms(agent, pending.url, person.email, person.password), pending);
    expect(algOf(firstTokens.id_token)).toBe('RS256');

    const third = await strictClient(thirdParty.clientId, thirdParty.clientSecret!, 'RS256');
    const asked = await startAuthorization(third, redirectUri);
    const consent = await agent.request(asked.url.toString());
    if (!isPage(consent)) throw new Error('expected the consent page');
    const approval = await agent.submit(consent, 'form[action$="/consent"]', { decision: 'allow' });
    if (isPage(approval)) throw new Error(`expected a redirect to the client, got ${approval.status}`);
    const thirdTokens = await exchangeCode(third, approval.location, asked);
    expect(algOf(thirdTokens.id_token)).toBe('RS256');
  });

  test('an operator moves an existing RS256 account client to ES256; its next ID token is ES256', async () => {
    // An account created before ES256 became the default for accounts: its client has no algorithm of its own.
    const existing = await createTestAccount(netid.context, person);
    const stored = (await netid.context.queries.clients.find(existing.clientId))!;
    const { id_token_signed_response_alg: _alg, ...before1 } = stored.metadata;
    await netid.context.queries.clients.updateMetadata(existing.clientId, before1);
    const before = await signInToAccount(await strictClient(existing.clientId, existing.clientSecret, 'RS256'), existing);
    expect(algOf(before.id_token)).toBe('RS256');

    const result = await runCommand(netid.context, ['account', 'id-token-alg'], { alg: 'ES256', account: existing.account.name } as Values);
    expect(result).toEqual({ moved: [{ account: existing.account.name, client_id: existing.clientId, from: 'RS256', to: 'ES256' }] });
    const [event] = (await netid.context.queries.audit.list({ kind: 'account.id_token_alg_changed' }, { limit: 1 })).items;
    expect(event).toMatchObject({ client_id: existing.clientId, detail: { from: 'RS256', to: 'ES256' } });

    // The refresh token issued before the move gets an ES256 ID token now, and so does a new sign-in.
    const client = await strictClient(existing.clientId, existing.clientSecret, 'ES256');
    expect(algOf((await oidc.refreshTokenGrant(client, before.refresh_token!)).id_token)).toBe('ES256');
    expect(algOf((await signInToAccount(client, existing)).id_token)).toBe('ES256');

    // Run again, nothing is left to move.
    expect(await runCommand(netid.context, ['account', 'id-token-alg'], { alg: 'ES256', all: true } as Values)).toEqual({ moved: [] });
  });

  test('a bad --alg, or neither or both of --account and --all, is a usage error', async () => {
    const account = await createTestAccount(netid.context, person);
    const command = (values: Record<string, unknown>) => runCommand(netid.context, ['account', 'id-token-alg'], values as Values);
    await expect(command({ alg: 'HS256', all: true })).rejects.toThrow(new UsageError('--alg must be one of RS256, ES256, EdDSA'));
    await expect(command({ alg: 'none', account: account.account.name })).rejects.toBeInstanceOf(UsageError);
    await expect(command({ alg: 'ES256' })).rejects.toThrow(new UsageError('give either --account NAME or --all'));
    await expect(command({ alg: 'ES256', all: true, account: account.account.name })).rejects.toBeInstanceOf(UsageError);
    await expect(command({ all: true })).rejects.toThrow(new UsageError('--alg is required'));
  });
});
