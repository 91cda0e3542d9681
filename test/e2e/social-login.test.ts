import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { accountClientUris } from '../../src/accounts/account-address.js';
import { en } from '../../src/i18n/en.js';
import { ACR } from '../../src/oidc/authentication-context.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { CONSUMERS_TENANT, freePort, ORGANIZATION_TENANT, startStandIns, type StandIns } from '../support/federation-stand-ins.js';
import { createPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { completedSignIns } from '../support/sign-in-counts.js';
import type { OAuthAnswer } from '../support/oauth2-stand-in.js';
import type { NextAnswer } from '../support/oidc-stand-in.js';
import { discoverAsClient, exchangeCode, startAuthorization } from '../support/relying-party.js';
import { alertsOn, isAgentPage, RoundTripAgent, type AgentPage } from '../support/round-trip-agent.js';
import { waitFor } from '../support/wait.js';

type ProviderId = 'google' | 'apple' | 'office365' | 'liveid' | 'acme' | 'facebook' | 'twitter';
let people = 0;

/** Someone new at a provider, said in the provider's own shape. */
function newcomer(provider: ProviderId, overrides: { email?: string; verified?: boolean } = {}): NextAnswer | OAuthAnswer {
  people += 1;
  const id = `${provider}-${people}-${Date.now()}`;
  const email = overrides.email ?? `${id}@example.test`;
  if (provider === 'facebook' || provider === 'twitter') return { id, firstName: 'Una', lastName: `Upstream${people}`, email, picture: true };
  const tenant = provider === 'office365' ? ORGANIZATION_TENANT : CONSUMERS_TENANT;
  const oid = `00000000-0000-4000-8000-${String(people).padStart(12, '0')}`;
  const microsoft = provider === 'office365' || provider === 'liveid';
  return {
    sub: id,
    email,
    email_verified: overrides.verified ?? true,
    given_name: 'Una',
    family_name: `Upstream${people}`,
    picture: true,
    extra: microsoft ? { tid: tenant, oid, ...(overrides.verified === false ? {} : { xms_edov: true }) } : {},
  };
}

describe.each(backends)('signing in with social login providers (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let standIns: StandIns;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    const port = await freePort();
    standIns = await startStandIns(port);
    netid = await startNetid(database.db, { port, env: standIns.env });
    netid.context.startDelivery();
  });

  afterAll(async () => {
    await netid?.stop();
    await standIns?.stop();
    await database?.dispose();
  });

  const agent = () => new RoundTripAgent(standIns.origins);
  const answerNext = (provider: ProviderId, answer: NextAnswer | OAuthAnswer) => {
    (standIns[provider] as { next: NextAnswer | OAuthAnswer }).next = answer;
  };

  /** From My Network's sign-in screen through the provider and back: where the browser ends up. */
  async function continueWith(browser: RoundTripAgent, provider: ProviderId, answer: NextAnswer | OAuthAnswer): Promise<AgentPage> {
    answerNext(provider, answer);
    const login = await browser.page(`${netid.issuer}/network`);
    return browser.submitPage(login, `form[action$="/federation/${provider}"]`);
  }

  async function signOut(browser: RoundTripAgent): Promise<void> {
    const confirm = await browser.page(`${netid.issuer}/session/end?client_id=netid-network`);
    await browser.submitPage(confirm, 'form#op\\.logoutForm', { logout: 'yes' });
  }

  const signedInName = (page: AgentPage) => page.document.querySelector('#profile-name')?.text;
  const isSignInScreen = (page: AgentPage) => page.document.querySelector('form[action$="/login"]') !== null;

  test.each<[ProviderId, { verified: boolean; photo: boolean }]>([
    ['google', { verified: true, photo: true }],
    ['apple', { verified: true, photo: false }],
    ['office365', { verified: true, photo: false }],
    ['liveid', { verified: false, photo: false }],
    ['acme', { verified: true, photo: true }],
    ['facebook', { verified: false, photo: true }],
    ['twitter', { verified: true, photo: true }],
  ])('%s signs up a profile with the names, email and photo it gives, then signs the same profile in again', async (provider, { verified, photo }) => {
    const browser = agent();
    const answer = newcomer(provider, { verified });
    const email = 'sub' in answer || 'id' in answer ? (answer as { email: string }).email : '';
    let page = await continueWith(browser, provider, answer);
    if (!verified) {
      // The provider does not vouch for the email: the first sign-in confirms it, as any sign-up's does.
      expect(page.document.querySelector('h1')?.text).toBe(en['confirm_email.title']);
      const message = await waitFor('the confirmation code', () => netid.context.devOutbox!.entries().find((entry) => entry.to === email));
      page = await browser.submitPage(page, 'form[action$="/confirm-email"]', { code: /\b(\d{6})\b/.exec(message.text)![1]! });
    }
    expect(page.url).toBe(`${netid.issuer}/network`);
    expect(signedInName(page)).toMatch(/^Una Upstream\d+$/);
    const profile = (await netid.context.queries.profiles.findByIdentifier(email))!;
    expect(profile).toMatchObject({ email_verified: true, password_hash: null });
    // Google's, X's, Facebook's and other OpenID Connect providers' pictures; Apple and Microsoft name none in their ID tokens.
    if (photo) expect(page.document.querySelector('img.avatar')?.getAttribute('src')).toBe(`/photos/${profile.photo}?size=100`);
    else expect(profile.photo).toBeNull();
    expect(await netid.context.queries.memberships.listForProfile(profile.id)).toHaveLength(1);

    const [identity] = await netid.context.services.profiles.listIdentities(profile.id);
    expect(identity).toMatchObject({ provider, email, email_verified: verified });
    if (provider === 'office365' || provider === 'liveid') {
      const tenant = provider === 'office365' ? ORGANIZATION_TENANT : CONSUMERS_TENANT;
      // Each tenant's own issuer; the subject is the tenant and the object id, which stay the same across applications.
      expect(identity).toMatchObject({ issuer: `https://login.microsoftonline.com/${tenant}/v2.0`, subject: `${tenant}.${(answer as unknown as { extra: { oid: string } }).extra.oid}` });
    }

    await signOut(browser);
    expect(isSignInScreen(await browser.page(`${netid.issuer}/network`))).toBe(true);
    const again = await continueWith(browser, provider, answer);
    expect(again.url).toBe(`${netid.issuer}/network`);
    expect(signedInName(again)).toBe(signedInName(page));
    expect(await netid.context.services.profiles.listIdentities(profile.id)).toHaveLength(1);
  });

  test("Apple's round trip: state, nonce and PKCE sent, form_post asked for, the client secret a JWT Apple's stand-in accepts", async () => {
    const before = standIns.apple.authorizations.length;
    const page = await continueWith(agent(), 'apple', newcomer('apple'));
    expect(signedInName(page)).toMatch(/^Una Upstream/);
    const sent = standIns.apple.authorizations[before]!;
    expect(sent.get('response_mode')).toBe('form_post');
    expect(sent.get('state')).toMatch(/^i\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(sent.get('nonce')).toBeTruthy();
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('redirect_uri')).toBe(`${netid.issuer}/federation/apple/callback`);
  });

  test('X and Facebook are sent state and a PKCE challenge', async () => {
    for (const provider of ['twitter', 'facebook'] as const) {
      const before = standIns[provider].authorizations.length;
      await continueWith(agent(), provider, newcomer(provider));
      const sent = standIns[provider].authorizations[before]!;
      expect(sent.get('state')).toMatch(/^i\./);
      expect(sent.get('code_challenge_method')).toBe('S256');
    }
    expect(standIns.twitter.authorizations.at(-1)!.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['users.email', 'users.read']));
  });

  test('an account sees how the person signed in: amr names fed and the provider, acr one factor', async () => {
    const browser = agent();
    const answer = newcomer('google');
    await continueWith(browser, 'google', answer);
    const profile = (await netid.context.queries.profiles.findByIdentifier((answer as { email: string }).email))!;
    const [membership] = await netid.context.queries.memberships.listForProfile(profile.id);
    const client = await netid.context.queries.clients.findByAccount(membership!.account_id);
    const secret = (await netid.context.queries.clients.findMetadata(client!.client_id))!.client_secret as string;
    const rp = await discoverAsClient(netid.issuer, client!.client_id, secret);
    const redirectUri = (accountClientUris(netid.context.config.accountUrlPattern, membership!.account_name).redirect_uris as string[])[0]!;

    // A fresh browser at the account: the sign-in screen, Google, and back to the account with a code.
    const countedBefore = await completedSignIns(netid, 'federated', '1');
    const fresh = agent();
    answerNext('google', answer);
    const pending = await startAuthorization(rp, redirectUri, { scope: 'openid profile email' });
    const login = await fresh.page(pending.url.toString());
    const left = await fresh.submit(login, 'form[action$="/federation/google"]');
    expect(isAgentPage(left)).toBe(false);
    if (isAgentPage(left)) return;
    const claims = (await exchangeCode(rp, left.location, pending)).claims()!;
    expect(claims).toMatchObject({ sub: profile.id, amr: ['fed', 'google'], acr: ACR.oneFactor, email_verified: true });
    expect((await completedSignIns(netid, 'federated', '1')) - countedBefore).toBe(1);
  });

  test('an email the provider vouches for that belongs to a profile is not linked and does not sign in to it: the person is told', async () => {
    const owner = await createPerson(netid.context);
    const browser = agent();
    const page = await continueWith(browser, 'google', newcomer('google', { email: owner.email, verified: true }));
    expect(isSignInScreen(page)).toBe(true);
    expect(alertsOn(page)).toBe(en['identity.email_taken']);
    expect(await netid.context.services.profiles.listIdentities(owner.profile.id)).toEqual([]);
    expect(isSignInScreen(await browser.page(`${netid.issuer}/network`))).toBe(true);
  });

  test('an email the provider does not vouch for that belongs to a profile is not linked and does not sign in to it; only the owner is told', async () => {
    const owner = await createPerson(netid.context);
    const before = await netid.context.queries.profiles.count();
    const browser = agent();
    const page = await continueWith(browser, 'facebook', newcomer('facebook', { email: owner.email }));
    // The same page as a sign-up with a new email would show: it does not tell who is registered.
    expect(page.document.querySelector('h1')?.text).toBe(en['confirm_email.title']);
    const rejected = await browser.submitPage(page, 'form[action$="/confirm-email"]', { code: '123456' });
    expect(alertsOn(rejected)).toBe(en['code.wrong']);
    expect(await netid.context.queries.profiles.count()).toBe(before);
    expect(await netid.context.services.profiles.listIdentities(owner.profile.id)).toEqual([]);
    expect(isSignInScreen(await browser.page(`${netid.issuer}/network`))).toBe(true);
    const notice = await waitFor('the notice to the owner', () => netid.context.devOutbox!.entries().find((entry) => entry.to === owner.email));
    expect(notice.subject).toBe(en['message.existing-profile.subject']);
  });

  test('a state that was tampered with, or an answer used twice, is refused', async () => {
    const browser = agent();
    answerNext('google', newcomer('google'));
    const login = await browser.page(`${netid.issuer}/network`);
    // The provider's answer, stopped before it reaches NetID.
    browser.stopAt = (url) => url.pathname === '/federation/google/callback';
    const answer = await browser.submit(login, 'form[action$="/federation/google"]');
    browser.stopAt = undefined;
    if (isAgentPage(answer)) throw new Error(`the provider did not answer: ${answer.html.slice(0, 500)}`);
    const state = answer.location.searchParams.get('state')!;
    expect(state).toMatch(/^i\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);

    const tampered = new URL(answer.location);
    tampered.searchParams.set('state', `${state.slice(0, -4)}${state.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`);
    const refused = await browser.page(tampered.toString());
    expect(isSignInScreen(refused)).toBe(true);
    expect(alertsOn(refused)).toBe(en['federation.state_invalid']);
    expect(refused.status).toBe(400);

    const unknown = new URL(answer.location);
    unknown.searchParams.set('state', 'made-up');
    const nobodys = await browser.page(unknown.toString());
    expect(nobodys.status).toBe(400);
    expect(nobodys.html).toContain(en['federation.state_invalid']);

    const genuine = await browser.page(answer.location.toString());
    expect(genuine.url).toBe(`${netid.issuer}/network`);
    // The same answer again: the round trip it belonged to is over, and nobody else is signed in by it.
    const other = agent();
    const replayed = await other.page(answer.location.toString());
    expect(replayed.status).toBe(400);
    expect(isSignInScreen(await other.page(`${netid.issuer}/network`))).toBe(true);
    const sameBrowser = await browser.page(answer.location.toString());
    expect(sameBrowser.status).toBe(400);
  });

  test.each([
    ['denied consent', { error: 'access_denied' as const }, 'federation.denied'],
    ['an upstream error', { error: 'server_error' as const }, 'federation.failed'],
  ])('%s returns the person to the sign-in screen with a message', async (_case, answer, messageKey) => {
    for (const provider of ['google', 'facebook', 'apple'] as const) {
      const page = await continueWith(agent(), provider, answer);
      expect(isSignInScreen(page)).toBe(true);
      expect(alertsOn(page)).toBe(en[messageKey as keyof typeof en]);
      expect(page.status).toBe(400);
    }
  });

  test.each([
    ['a wrong issuer', { claims: (claims: Record<string, unknown>) => ({ ...claims, iss: 'https://evil.example' }) }],
    ['a wrong audience', { claims: (claims: Record<string, unknown>) => ({ ...claims, aud: 'another-client' }) }],
    ['a wrong nonce', { claims: (claims: Record<string, unknown>) => ({ ...claims, nonce: 'not-the-one-sent' }) }],
    ['an expired ID token', { claims: (claims: Record<string, unknown>) => ({ ...claims, exp: Math.floor(Date.now() / 1000) - 3600 }) }],
    ['a forged signature', { forgeSignature: true }],
  ])('an ID token with %s signs nobody in', async (_case, tamper) => {
    const before = await netid.context.queries.profiles.count();
    standIns.acme.tamper = tamper;
    try {
      const page = await continueWith(agent(), 'acme', newcomer('acme'));
      expect(isSignInScreen(page)).toBe(true);
      expect(alertsOn(page)).toBe(en['federation.failed']);
    } finally {
      standIns.acme.tamper = undefined;
    }
    expect(await netid.context.queries.profiles.count()).toBe(before);
  });

  test("Microsoft: a token whose issuer is not its own tenant's, or a personal account at Office 365, is refused", async () => {
    const before = await netid.context.queries.profiles.count();
    standIns.office365.tamper = { claims: (claims) => ({ ...claims, tid: '0b1c1a52-2b6e-4c8e-9d4a-3a1b2c3d4e5f' }) };
    try {
      const page = await continueWith(agent(), 'office365', newcomer('office365'));
      expect(alertsOn(page)).toBe(en['federation.failed']);
    } finally {
      standIns.office365.tamper = undefined;
    }
    // A personal account's token, from the consumers tenant, is not a work account.
    standIns.office365.tamper = { claims: (claims) => ({ ...claims, tid: CONSUMERS_TENANT, iss: `https://login.microsoftonline.com/${CONSUMERS_TENANT}/v2.0` }) };
    try {
      const page = await continueWith(agent(), 'office365', newcomer('office365'));
      expect(alertsOn(page)).toBe(en['federation.failed']);
    } finally {
      standIns.office365.tamper = undefined;
    }
    expect(await netid.context.queries.profiles.count()).toBe(before);
  });

  describe('the Social media page', () => {
    async function signedInPerson() {
      const person = await createPerson(netid.context);
      const browser = agent();
      const login = await browser.page(`${netid.issuer}/network`);
      await browser.submitPage(login, 'form[action$="/login"]', { identifier: person.email, password: person.password });
      return { person, browser };
    }

    test('connects a provider, and refuses one connected to another profile with a clear message', async () => {
      const { person, browser } = await signedInPerson();
      const social = await browser.page(`${netid.issuer}/network/social`);
      answerNext('twitter', newcomer('twitter'));
      const connected = await browser.submitPage(social, 'form[action$="/social/twitter/connect"]');
      expect(connected.url).toBe(`${netid.issuer}/network/social?done=done.identity_connected`);
      expect(connected.document.querySelector('[role=status]')?.text).toBe(en['done.identity_connected']);
      expect((await netid.context.services.profiles.listIdentities(person.profile.id)).map((identity) => identity.provider)).toEqual(['twitter']);

      // Someone else's Google account.
      const theirs = newcomer('google');
      await continueWith(agent(), 'google', theirs);
      answerNext('google', theirs);
      const refused = await browser.submitPage(connected, 'form[action$="/social/google/connect"]');
      expect(alertsOn(refused)).toBe(en['identity.taken']);
      expect(refused.status).toBe(409);
      expect((await netid.context.services.profiles.listIdentities(person.profile.id)).map((identity) => identity.provider)).toEqual(['twitter']);
    });

    test('connecting needs a sign-in within the last minutes: a stale one signs in again first', async () => {
      const { browser } = await signedInPerson();
      await database.db('oidc_models').where('model', 'Session').update({ payload: database.db.raw("jsonb_set(payload, '{loginTs}', to_jsonb((extract(epoch from now()) - 3600)::int))") });
      const social = await browser.page(`${netid.issuer}/network/social`);
      const again = await browser.submitPage(social, 'form[action$="/social/google/connect"]');
      expect(isSignInScreen(again)).toBe(true);
    });

    test('the last way to sign in cannot be disconnected and the page says why; after setting a password it can', async () => {
      const browser = agent();
      const answer = newcomer('acme');
      (answer as { email?: string }).email = undefined;
      await continueWith(browser, 'acme', answer);
      const social = await browser.page(`${netid.issuer}/network/social`);
      expect(social.document.querySelector('#last-acme')?.text).toContain(en['identity.last_sign_in_method']);
      expect(social.document.querySelector('form[action$="/social/acme/disconnect"]')).toBeNull();

      // Even a form made by hand is refused.
      const profileId = (await netid.context.db('identities').where({ provider: 'acme', subject: (answer as { sub: string }).sub }).first()).profile_id as string;
      const [identity] = await netid.context.services.profiles.listIdentities(profileId);
      const csrf = social.document.querySelector('input[name=csrf]')!.getAttribute('value')!;
      const refused = await browser.page(`${netid.issuer}/network/social/acme/disconnect`, { form: { csrf, identity: identity!.id } });
      expect(alertsOn(refused)).toBe(en['identity.last_sign_in_method']);
      expect(await netid.context.services.profiles.listIdentities(profileId)).toHaveLength(1);

      const passwordPage = await browser.page(`${netid.issuer}/network/password`);
      await browser.submitPage(passwordPage, 'form[action="/network/password"]', { new_password: 'a password of my very own' });
      const after = await browser.page(`${netid.issuer}/network/social`);
      const disconnected = await browser.submitPage(after, 'form[action$="/social/acme/disconnect"]');
      expect(disconnected.document.querySelector('[role=status]')?.text).toBe(en['done.identity_disconnected']);
      expect(await netid.context.services.profiles.listIdentities(profileId)).toEqual([]);
    });
  });
  // Last: it leaves this test's client address throttled.
  test('answers with states nobody sent are limited per client address', async () => {
    const browser = agent();
    const login = await browser.page(`${netid.issuer}/network`);
    const uid = /\/interaction\/([^/?]+)/.exec(login.url)![1]!;
    let refused: AgentPage | undefined;
    for (let attempt = 0; attempt < 25 && !refused; attempt++) {
      const page = await browser.page(`${netid.issuer}/federation/google/callback?code=x&state=i.${uid}.${String(attempt).padStart(43, 'A')}`);
      if (page.status === 429) refused = page;
      else expect(alertsOn(page)).toBe(en['federation.state_invalid']);
    }
    expect(refused).toBeDefined();
    expect(alertsOn(refused!)).toMatch(/^Too many sign-ins with other services were started from your network\. Wait \d+ minutes before you try again\.$/);
  });
});
