import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import type { CreatedAccount } from '../../src/accounts/account-service.js';
import { OPERATOR } from '../../src/db/audit.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient, exchangeCode, signInThroughForms, startAuthorization } from '../support/relying-party.js';
import { enrolAuthenticatorApp } from '../support/second-factors.js';
import { completedSignIns } from '../support/sign-in-counts.js';
import { isPage, UserAgent, type Page } from '../support/user-agent.js';
import { waitFor } from '../support/wait.js';

const ACR_1FA = 'urn:netid:acr:1fa';
const ACR_2FA = 'urn:netid:acr:2fa';
const ACR_PHR = 'urn:netid:acr:phr';

/**
 * What relying parties get when they ask for a level of authentication
 * (acr_values, or an essential acr claim) and when their account requires
 * two factors: the second step asked for, even inside a session that signed
 * in with one, the acr and amr that say what was proven, and an error the
 * relying party can act on when the person cannot reach the level.
 */
describe.each(backends)('authentication levels for relying parties (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db, { env: { OUTBOX_POLL_MS: '100' } });
    netid.context.startDelivery();
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  /** A person with an account of their own, whose client plays the relying party. */
  async function personWithAccount(): Promise<{ person: TestPerson; account: CreatedAccount; client: oidc.Configuration; redirectUri: string }> {
    const person = await createPerson(netid.context);
    const account = await createTestAccount(netid.context, person);
    const client = await discoverAsClient(netid.issuer, account.clientId, account.clientSecret);
    const redirectUri = (accountClientUris(netid.context.config.accountUrlPattern, account.account.name).redirect_uris as string[])[0]!;
    return { person, account, client, redirectUri };
  }

  const secondFactorPage = (page: Page) => page.document.querySelector('form[action$="/second-factor/totp"]');

  test('discovery offers the three levels', async () => {
    const discovery = (await (await fetch(`${netid.issuer}/.well-known/openid-configuration`)).json()) as { acr_values_supported: string[] };
    expect(discovery.acr_values_supported).toEqual([ACR_1FA, ACR_2FA, ACR_PHR]);
  });

  test('a relying party asking for two factors in a single-factor session is asked for the second step and gets acr 2fa', async () => {
    const { person, client, redirectUri } = await personWithAccount();
    const agent = new UserAgent(netid.issuer);
    const first = await startAuthorization(client, redirectUri);
    const plain = await exchangeCode(client, await signInThroughForms(agent, first.url, person.email, person.password), first);
    expect(plain.claims()).toMatchObject({ acr: ACR_1FA, amr: ['pwd'] });

    // The authenticator app is set up after this session signed in: the session is still a single-factor one.
    const app = await enrolAuthenticatorApp(netid.context, person.profile);
    const countedBefore = await completedSignIns(netid, 'password', '2');
    const stepUp = await startAuthorization(client, redirectUri, { acr_values: ACR_2FA });
    const asked = await agent.page(stepUp.url.toString());
    expect(secondFactorPage(asked)).not.toBeNull();
    // Only what is missing is asked: no password field.
    expect(asked.document.querySelector('input[type=password]')).toBeNull();
    const wrong = await agent.submit(asked, 'form[action$="/second-factor/totp"]', { code: '000000' });
    expect(isPage(wrong) && wrong.status).toBe(400);
    const done = await agent.submit(asked, 'form[action$="/second-factor/totp"]', { code: await app.nextCode() });
    if (isPage(done)) throw new Error(`the step-up did not return to the relying party:\n${done.html.slice(0, 1500)}`);
    const claims = (await exchangeCode(client, done.location, stepUp)).claims()!;
    expect(claims.acr).toBe(ACR_2FA);
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    // A step-up adds to a sign-in already counted: the operator's count of sign-ins does not move.
    expect(await completedSignIns(netid, 'password', '2')).toBe(countedBefore);

    // The session now has two factors: the next request for them is answered at once.
    const again = await startAuthorization(client, redirectUri, { acr_values: ACR_2FA });
    const callback = await agent.redirect(again.url.toString());
    expect((await exchangeCode(client, callback, again)).claims()).toMatchObject({ acr: ACR_2FA });
  });

  test('a profile with an authenticator app is asked for its code after the password, and a reused code is refused', async () => {
    const { person, client, redirectUri } = await personWithAccount();
    const app = await enrolAuthenticatorApp(netid.context, person.profile);
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri);
    const login = await agent.page(pending.url.toString());
    const asked = await agent.submit(login, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    if (!isPage(asked) || !secondFactorPage(asked)) throw new Error('the second step was not asked for');
    const code = await app.nextCode();
    const done = await agent.submit(asked, 'form[action$="/second-factor/totp"]', { code });
    if (isPage(done)) throw new Error(done.html.slice(0, 1500));
    expect((await exchangeCode(client, done.location, pending)).claims()).toMatchObject({ acr: ACR_2FA });

    // The same code in another browser a moment later: refused, it was used.
    const other = new UserAgent(netid.issuer);
    const second = await startAuthorization(client, redirectUri);
    const otherLogin = await other.page(second.url.toString());
    const otherAsked = await other.submit(otherLogin, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    if (!isPage(otherAsked)) throw new Error('the second step was not asked for');
    const replayed = await other.submit(otherAsked, 'form[action$="/second-factor/totp"]', { code });
    if (!isPage(replayed)) throw new Error('a used code was accepted');
    expect(replayed.status).toBe(400);
    expect(replayed.document.querySelector('[role=alert]')?.text).toContain('already used');
  });

  test('the password is answered with the code page itself, which a reload or a second post of the password finds again', async () => {
    const { person, client, redirectUri } = await personWithAccount();
    const app = await enrolAuthenticatorApp(netid.context, person.profile);
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri);
    const login = await agent.page(pending.url.toString());
    const asked = await agent.submit(login, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    if (!isPage(asked) || !secondFactorPage(asked)) throw new Error('the second step was not asked for');
    // No redirect in between: the page is the answer to the post.
    expect(new URL(asked.url).pathname).toMatch(/^\/interaction\/[^/]+\/login$/);
    expect(asked.status).toBe(200);

    const countedBefore = await completedSignIns(netid, 'password', '2');
    const interactionPath = new URL(asked.url).pathname.replace(/\/login$/, '');
    expect(secondFactorPage(await agent.page(interactionPath))).not.toBeNull();
    // A browser re-sending the password form (reload after the post) is shown the step, not signed in again.
    const resent = await agent.submit(login, 'form[action$="/login"]', { identifier: person.email, password: 'not the password' });
    if (!isPage(resent) || !secondFactorPage(resent)) throw new Error('a resent password form left the second step');

    const done = await agent.submit(resent, 'form[action$="/second-factor/totp"]', { code: await app.nextCode() });
    if (isPage(done)) throw new Error(done.html.slice(0, 1500));
    expect((await exchangeCode(client, done.location, pending)).claims()).toMatchObject({ acr: ACR_2FA, amr: expect.arrayContaining(['pwd', 'otp']) });
    expect((await completedSignIns(netid, 'password', '2')) - countedBefore).toBe(1);
  });

  test('a level the person cannot reach gets unmet_authentication_requirements, not a weaker token', async () => {
    const { person, client, redirectUri } = await personWithAccount();
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri, { acr_values: ACR_2FA });
    const login = await agent.page(pending.url.toString());
    const told = await agent.submit(login, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    if (!isPage(told)) throw new Error('a weaker sign-in went through');
    expect(told.document.querySelector('h1')?.text).toContain('Two-step verification is required');
    expect(told.document.querySelector('a[href="/network/security"]')).not.toBeNull();
    const back = await agent.submit(told, 'form[action$="/second-factor/give-up"]');
    if (isPage(back)) throw new Error('giving up did not return to the relying party');
    expect(back.location.searchParams.get('error')).toBe('unmet_authentication_requirements');

    // A passkey was asked for, and the person has only an authenticator app.
    await enrolAuthenticatorApp(netid.context, person.profile);
    const phr = await startAuthorization(client, redirectUri, { acr_values: ACR_PHR });
    const asked = await agent.page(phr.url.toString());
    const passwordDone = await agent.submit(asked, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    if (!isPage(passwordDone)) throw new Error('a weaker sign-in went through');
    expect(passwordDone.document.querySelector('form[action$="/second-factor/totp"]')).toBeNull();
    const refused = await agent.submit(passwordDone, 'form[action$="/second-factor/give-up"]');
    expect(!isPage(refused) && refused.location.searchParams.get('error')).toBe('unmet_authentication_requirements');
  });

  test('prompt=none below the level answers login_required; an essential acr NetID does not offer, unmet_authentication_requirements', async () => {
    const { person, client, redirectUri } = await personWithAccount();
    const agent = new UserAgent(netid.issuer);
    const first = await startAuthorization(client, redirectUri);
    await signInThroughForms(agent, first.url, person.email, person.password);
    const silent = await startAuthorization(client, redirectUri, { acr_values: ACR_2FA, prompt: 'none' });
    expect((await agent.redirect(silent.url.toString())).searchParams.get('error')).toBe('login_required');
    const unknown = await startAuthorization(client, redirectUri, { claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:example:gold'] } } }) });
    expect((await agent.redirect(unknown.url.toString())).searchParams.get('error')).toBe('unmet_authentication_requirements');
    // An essential request for one factor is answered in its own terms.
    const essential = await startAuthorization(client, redirectUri, { claims: JSON.stringify({ id_token: { acr: { essential: true, values: [ACR_1FA] } } }) });
    expect((await exchangeCode(client, await agent.redirect(essential.url.toString()), essential)).claims()).toMatchObject({ acr: ACR_1FA });
  });

  test('an account that requires two factors asks everyone for them, and refuses a profile without one', async () => {
    const { person, account, client, redirectUri } = await personWithAccount();
    const set = await netid.context.services.accounts.setRequireSecondFactor(account.account.id, true, OPERATOR);
    expect(set).toMatchObject({ ok: true, account: { require_second_factor: true } });

    const agent = new UserAgent(netid.issuer);
    const refused = await startAuthorization(client, redirectUri);
    const login = await agent.page(refused.url.toString());
    const told = await agent.submit(login, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    if (!isPage(told)) throw new Error('a single factor was let in');
    expect(told.document.querySelector('h1')?.text).toContain('Two-step verification is required');
    const back = await agent.submit(told, 'form[action$="/second-factor/give-up"]');
    expect(!isPage(back) && back.location.searchParams.get('error')).toBe('unmet_authentication_requirements');

    const app = await enrolAuthenticatorApp(netid.context, person.profile);
    const pending = await startAuthorization(client, redirectUri);
    const again = await agent.page(pending.url.toString());
    const asked = await agent.submit(again, 'form[action$="/login"]', { identifier: person.email, password: person.password });
    if (!isPage(asked)) throw new Error('the second step was not asked for');
    const done = await agent.submit(asked, 'form[action$="/second-factor/totp"]', { code: await app.nextCode() });
    if (isPage(done)) throw new Error(done.html.slice(0, 1500));
    expect((await exchangeCode(client, done.location, pending)).claims()).toMatchObject({ acr: ACR_2FA });
  });

  test('a recovery code stands in for the authenticator app once, and recovering access by email does not skip the second step', async () => {
    const { person, client, redirectUri } = await personWithAccount();
    await enrolAuthenticatorApp(netid.context, person.profile);
    const { codes } = await netid.context.services.factors.generateRecoveryCodes(person.profile.id, OPERATOR);
    expect(codes).toHaveLength(10);

    const signInWithRecoveryCode = async (code: string) => {
      const agent = new UserAgent(netid.issuer);
      const pending = await startAuthorization(client, redirectUri);
      const login = await agent.page(pending.url.toString());
      const asked = await agent.submit(login, 'form[action$="/login"]', { identifier: person.email, password: person.password });
      if (!isPage(asked)) throw new Error('the second step was not asked for');
      return { pending, result: await agent.submit(asked, 'form[action$="/second-factor/recovery-code"]', { code }) };
    };
    const used = await signInWithRecoveryCode(codes[0]!.toUpperCase());
    if (isPage(used.result)) throw new Error(used.result.html.slice(0, 1500));
    expect((await exchangeCode(client, used.result.location, used.pending)).claims()).toMatchObject({ acr: ACR_2FA, amr: expect.arrayContaining(['pwd', 'otp']) });
    const again = await signInWithRecoveryCode(codes[0]!);
    expect(isPage(again.result) && again.result.status).toBe(400);
    expect(await netid.context.services.factors.enrolled(person.profile.id)).toMatchObject({ totp: true, recoveryCodes: 9 });

    // Forgot password: a new password by email code, then the sign-in still asks for the second step.
    const agent = new UserAgent(netid.issuer);
    const pending = await startAuthorization(client, redirectUri);
    const login = await agent.page(pending.url.toString());
    const recover = await agent.page(login.url.replace(/\/?$/, '').replace(/(\/interaction\/[^/]+).*$/, '$1/recover'));
    const sent = await agent.submit(recover, 'form[action$="/recover"]', { identifier: person.email });
    if (!isPage(sent)) throw new Error('recovery left NetID');
    const mail = await waitFor('the recovery code', () => netid.context.devOutbox!.entries().find((entry) => entry.to === person.email && /Recover access/.test(entry.subject ?? '')));
    const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
    const recovered = await agent.submit(sent, 'form[action$="/recover/code"]', { code: code!, password: 'a brand new pass phrase' });
    if (!isPage(recovered)) throw new Error('recovery left NetID');
    const asked = await agent.submit(recovered, 'form[action$="/login"]', { identifier: person.email, password: 'a brand new pass phrase' });
    expect(isPage(asked) && secondFactorPage(asked)).toBeTruthy();
  });
});
