import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { accountClientUris } from '../../src/accounts/account-address.js';
import { en } from '../../src/i18n/en.js';
import { ru } from '../../src/i18n/ru.js';
import { checkPassword, hashPassword } from '../../src/security/passwords.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { discoverAsClient, exchangeCode, signInThroughForms, startAuthorization } from '../support/relying-party.js';
import { isPage, UserAgent, type Page } from '../support/user-agent.js';
import { waitFor } from '../support/wait.js';

interface RelyingParty {
  config: oidc.Configuration;
  redirectUri: string;
}

describe.each(backends)('recovering access with a one-time code (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  /** An account that any test can start a sign-in at. */
  let site: RelyingParty;

  async function relyingPartyOf(person: TestPerson): Promise<RelyingParty> {
    const created = await createTestAccount(netid.context, person);
    return {
      config: await discoverAsClient(netid.issuer, created.clientId, created.clientSecret),
      redirectUri: (accountClientUris(netid.context.config.accountUrlPattern, created.account.name).redirect_uris as string[])[0]!,
    };
  }

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    netid.context.startDelivery();
    site = await relyingPartyOf(await createPerson(netid.context));
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  /** Seconds NetID's clock runs ahead of the real one, for the test under way. */
  let ahead = 0;
  function runClockAhead(seconds: number): void {
    if (ahead === 0) {
      const realNow = Date.now.bind(Date);
      jest.spyOn(Date, 'now').mockImplementation(() => realNow() + ahead * 1000);
    }
    ahead += seconds;
  }

  afterEach(() => {
    jest.restoreAllMocks();
    ahead = 0;
  });

  const messagesTo = (to: string) => netid.context.devOutbox!.entries().filter((entry) => entry.to === to);

  /** The code in the newest message to `to`, once there are more than `earlier` of them. */
  async function codeSentTo(to: string, earlier = 0): Promise<string> {
    const message = await waitFor(`a message to ${to}`, () => messagesTo(to).length > earlier && messagesTo(to)[0]);
    const code = /\b(\d{6})\b/.exec(message.text)?.[1];
    if (!code) throw new Error(`no code in the message to ${to}:\n${message.text}`);
    return code;
  }

  async function expectPage(result: Promise<Page | { location: URL }>): Promise<Page> {
    const answer = await result;
    if (!isPage(answer)) throw new Error(`expected a NetID page, was sent to ${answer.location.toString()}`);
    return answer;
  }

  /** From a relying party's sign-in, through "Forgot password?", to the form that asks for an email or phone. */
  async function openRecovery(agent: UserAgent, rp: RelyingParty = site): Promise<{ form: Page; pending: Awaited<ReturnType<typeof startAuthorization>> }> {
    const pending = await startAuthorization(rp.config, rp.redirectUri);
    const login = await agent.page(pending.url.toString());
    const link = login.document.querySelector('a[href$="/recover"]');
    expect(link?.text).toBe(en['login.forgot']);
    const form = await agent.page(new URL(link!.getAttribute('href')!, login.url).toString());
    return { form, pending };
  }

  async function askForCode(agent: UserAgent, identifier: string, rp: RelyingParty = site) {
    const { form, pending } = await openRecovery(agent, rp);
    const codeForm = await expectPage(agent.submit(form, 'form[action$="/recover"]', { identifier }));
    return { codeForm, pending };
  }

  const enterCode = (agent: UserAgent, page: Page, code: string, password: string) =>
    expectPage(agent.submit(page, 'form[action$="/recover/code"]', { code, password }));

  /** A page as a person reads it, without what differs between any two requests (interaction, CSRF token, identifier). */
  const readable = (page: Page, identifier: string) =>
    page.document
      .querySelector('main')!
      .innerHTML.replaceAll(identifier, 'IDENTIFIER')
      .replace(/\/interaction\/[^/"]+/g, '/interaction/UID')
      .replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value=""');

  const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

  test('a person recovers access by email; the old password and the tokens from before stop working', async () => {
    const person = await createPerson(netid.context);
    const rp = await relyingPartyOf(person);

    // Signed in somewhere before, with a refresh token in the relying party's hands.
    const earlierBrowser = new UserAgent(netid.issuer);
    const first = await startAuthorization(rp.config, rp.redirectUri, { scope: 'openid profile email offline_access', prompt: 'consent' });
    const earlier = await exchangeCode(rp.config, await signInThroughForms(earlierBrowser, first.url, person.email, person.password), first);
    expect(earlier.refresh_token).toBeDefined();

    const agent = new UserAgent(netid.issuer);
    const { form, pending } = await openRecovery(agent, rp);
    expect(form.status).toBe(200);
    expect(form.document.querySelector('h1')!.text).toBe(en['recover.title']);
    expect(form.document.querySelector('#identifier')!.getAttribute('autocomplete')).toBe('username');

    // Typed in capitals: the same profile.
    const codeForm = await expectPage(agent.submit(form, 'form[action$="/recover"]', { identifier: person.email.toUpperCase() }));
    expect(codeForm.status).toBe(200);
    expect(codeForm.document.querySelector('[role=status]')!.text).toBe(en['recover.sent'].replace('{identifier}', person.email));
    expect(codeForm.document.querySelector('#code')!.getAttribute('autocomplete')).toBe('one-time-code');
    expect(codeForm.document.querySelector('#password')!.getAttribute('autocomplete')).toBe('new-password');
    const message = await waitFor('the email', () => messagesTo(person.email)[0]);
    expect(message).toMatchObject({ channel: 'email', subject: en['message.recover-access.subject'] });

    const newPassword = 'a fresh pass phrase after recovery';
    const signIn = await enterCode(agent, codeForm, await codeSentTo(person.email), newPassword);
    expect(signIn.status).toBe(200);
    expect(signIn.document.querySelector('h1')!.text).toBe(en['login.title']);
    expect(signIn.document.querySelector('[role=status]')!.text).toBe(en['recover.done']);
    expect(signIn.document.querySelector('#identifier')!.getAttribute('value')).toBe(person.email);

    // The same sign-in goes on with the new password.
    const callback = await agent.submit(signIn, 'form[action$="/login"]', { identifier: person.email, password: newPassword });
    if (isPage(callback)) throw new Error(`sign-in with the new password failed (${callback.status})`);
    const tokens = await exchangeCode(rp.config, callback.location, pending);
    expect(tokens.claims()!.sub).toBe(person.profile.id);

    // What the relying party and the other browser observe.
    await expect(oidc.refreshTokenGrant(rp.config, earlier.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const silent = await startAuthorization(rp.config, rp.redirectUri, { prompt: 'none' });
    await expect(exchangeCode(rp.config, await earlierBrowser.redirect(silent.url.toString()), silent)).rejects.toMatchObject({
      error: 'login_required',
    });

    const fresh = new UserAgent(netid.issuer);
    const again = await startAuthorization(rp.config, rp.redirectUri);
    const login = await fresh.page(again.url.toString());
    const refused = await expectPage(fresh.submit(login, 'form[action$="/login"]', { identifier: person.email, password: person.password }));
    expect(refused.status).toBe(401);
    expect(refused.document.querySelector('[role=alert]')!.text).toBe(en['login.failed']);
    const accepted = await fresh.submit(refused, 'form[action$="/login"]', { identifier: person.email, password: newPassword });
    if (isPage(accepted)) throw new Error(`sign-in with the new password failed (${accepted.status})`);
    expect((await exchangeCode(rp.config, accepted.location, again)).claims()!.sub).toBe(person.profile.id);

    const events = (await netid.context.queries.audit.list({ profileId: person.profile.id, kind: 'profile.access_recovered' }, { limit: 100 })).items;
    expect(events).toHaveLength(1);
  });

  test('an identifier that belongs to nobody gets the same page, and no message goes anywhere', async () => {
    const known = await createPerson(netid.context);
    const unknown = `nobody.${Date.now()}@example.test`;
    const answers = [];
    for (const identifier of [known.email, unknown]) {
      const { codeForm } = await askForCode(new UserAgent(netid.issuer), identifier);
      answers.push({ status: codeForm.status, url: codeForm.url.replace(/\/interaction\/[^/]+/, ''), page: readable(codeForm, identifier) });
    }
    expect(answers[1]).toEqual(answers[0]);
    await codeSentTo(known.email);
    expect(messagesTo(unknown)).toHaveLength(0);
  });

  test('wrong, malformed and exhausted codes get their messages, the same for an identifier that belongs to nobody', async () => {
    const person = await createPerson(netid.context);
    const transcripts: string[][] = [];
    for (const identifier of [person.email, `nobody.${Date.now()}@example.test`]) {
      const agent = new UserAgent(netid.issuer);
      let { codeForm: page } = await askForCode(agent, identifier);
      const code = identifier === person.email ? await codeSentTo(person.email) : '123456';
      const transcript: string[] = [];
      const attempt = async (typed: string) => {
        page = await enterCode(agent, page, typed, 'a perfectly good new pass phrase');
        expect(page.status).toBe(400);
        expect(page.document.querySelector('#code')!.getAttribute('aria-invalid')).toBe('true');
        transcript.push(page.document.querySelector('#code-error')!.text);
      };
      await attempt('12ab56');
      for (let i = 0; i < 5; i++) await attempt(otherCode(code));
      // Once exhausted even the right code is refused.
      await attempt(code);
      transcripts.push(transcript);
    }
    expect(transcripts[0]).toEqual([
      en['code.format'],
      ...Array(4).fill(en['code.wrong']),
      en['code.exhausted'],
      en['code.exhausted'],
    ]);
    expect(transcripts[1]).toEqual(transcripts[0]);
    const stored = await netid.context.queries.profiles.findById(person.profile.id);
    expect((await checkPassword(stored!.password_hash, person.password)).valid).toBe(true);
  });

  test('a weak new password is refused with its reason, and nothing changes', async () => {
    const person = await createPerson(netid.context);
    const agent = new UserAgent(netid.issuer);
    const { codeForm } = await askForCode(agent, person.email);
    const code = await codeSentTo(person.email);

    for (const [password, reason] of [
      ['password', en['password.common']],
      ['short', en['password.too_short']],
    ] as const) {
      const refused = await enterCode(agent, codeForm, code, password);
      expect(refused.status).toBe(400);
      expect(refused.document.querySelector('#password-error')!.text).toBe(reason);
      expect(refused.document.querySelector('#password')!.getAttribute('aria-invalid')).toBe('true');
      // What was typed stays, except the password.
      expect(refused.document.querySelector('#code')!.getAttribute('value')).toBe(code);
      expect(refused.document.querySelector('#password')!.getAttribute('value')).toBeUndefined();
    }
    const stored = await netid.context.queries.profiles.findById(person.profile.id);
    expect(stored!.password_hash).toBe(person.profile.password_hash);
    expect((await netid.context.queries.audit.list({ profileId: person.profile.id, kind: 'profile.access_recovered' }, { limit: 100 })).items).toHaveLength(0);

    // The refusals did not use up the code.
    const done = await enterCode(agent, codeForm, code, 'a strong enough pass phrase');
    expect(done.document.querySelector('[role=status]')!.text).toBe(en['recover.done']);
  });

  test("a new password made of the identifier typed is refused before the code; of the profile's own phone once the code is right", async () => {
    const person = await createPerson(netid.context);
    const phone = '+4915187654321';
    await database.db('profiles').where({ id: person.profile.id }).update({ phone, phone_verified: true });
    const agent = new UserAgent(netid.issuer);
    const { codeForm } = await askForCode(agent, person.email);
    const code = await codeSentTo(person.email);

    // What was typed is known before the code is tried, registered or not; the phone only to whoever holds the code.
    for (const password of [`${person.email}!`, '0151 8765 4321']) {
      const refused = await enterCode(agent, codeForm, code, password);
      expect(refused.status).toBe(400);
      expect(refused.document.querySelector('#password-error')!.text).toBe(en['password.context_words']);
      expect(refused.document.querySelector('#code')!.getAttribute('value')).toBe(code);
    }
    const stored = await netid.context.queries.profiles.findById(person.profile.id);
    expect(stored!.password_hash).toBe(person.profile.password_hash);

    // Neither refusal used up the code.
    const done = await enterCode(agent, codeForm, code, 'a pass phrase of my own');
    expect(done.document.querySelector('[role=status]')!.text).toBe(en['recover.done']);
  });

  test('the code proves the address: an unconfirmed sign-up email becomes confirmed, a phone gets an SMS only once confirmed', async () => {
    const stamp = Date.now();
    const unconfirmedEmail = `new.${stamp}@example.test`;
    const signedUp = await netid.context.queries.profiles.insert({ email: unconfirmedEmail, passwordHash: await hashPassword('sign up pass phrase') });
    const confirmedPhone = '+4915112345678';
    const withPhone = await netid.context.queries.profiles.insert({
      phone: confirmedPhone,
      phoneVerified: true,
      passwordHash: await hashPassword('phone pass phrase'),
    });
    const unconfirmedPhone = '+12025550143';
    await netid.context.queries.profiles.insert({ phone: unconfirmedPhone, passwordHash: await hashPassword('another pass phrase') });

    const byEmail = new UserAgent(netid.issuer);
    const { codeForm: emailForm } = await askForCode(byEmail, unconfirmedEmail);
    await enterCode(byEmail, emailForm, await codeSentTo(unconfirmedEmail), 'recovered by email pass phrase');
    expect((await netid.context.queries.profiles.findById(signedUp.id))!.email_verified).toBe(true);

    const bySms = new UserAgent(netid.issuer);
    const { codeForm: smsForm } = await askForCode(bySms, '+49 151 12345678');
    await waitFor('the SMS', () => messagesTo(confirmedPhone)[0]);
    expect(messagesTo(confirmedPhone)[0]).toMatchObject({ channel: 'sms' });
    const done = await enterCode(bySms, smsForm, await codeSentTo(confirmedPhone), 'recovered by sms pass phrase');
    expect(done.document.querySelector('#identifier')!.getAttribute('value')).toBe(confirmedPhone);
    const stored = (await netid.context.queries.profiles.findById(withPhone.id))!;
    expect((await checkPassword(stored.password_hash, 'recovered by sms pass phrase')).valid).toBe(true);

    const { codeForm: unconfirmedForm } = await askForCode(new UserAgent(netid.issuer), unconfirmedPhone);
    expect(unconfirmedForm.status).toBe(200);
    // Give the worker time to send, were anything queued.
    await netid.context.startDelivery().idle();
    expect(messagesTo(unconfirmedPhone)).toHaveLength(0);
    expect(await database.db('outbox').where({ recipient: unconfirmedPhone })).toHaveLength(0);
  });

  test('"Send a new code" within a minute says how long to wait, the same for everyone; the earlier code stays the one that works', async () => {
    const person = await createPerson(netid.context);
    const answers = [];
    for (const identifier of [person.email, `nobody.${Date.now()}@example.test`]) {
      const agent = new UserAgent(netid.issuer);
      const { codeForm } = await askForCode(agent, identifier);
      const again = await expectPage(agent.submit(codeForm, 'form.secondary-action[action$="/recover"]'));
      expect(again.status).toBe(429);
      const wait = Number(again.headers.get('retry-after'));
      expect(wait).toBeGreaterThan(50);
      expect(wait).toBeLessThanOrEqual(60);
      expect(again.document.querySelector('[role=alert]')!.text).toBe(en['code.wait'].replace('{wait}', `${wait} seconds`));
      // Still the form where the code that was sent is typed.
      expect(again.document.querySelector('form[action$="/recover/code"]')).not.toBeNull();
      answers.push({ status: again.status, page: readable(again, identifier).replace(/\d+ seconds/, 'N seconds') });
      if (identifier === person.email) {
        const code = await codeSentTo(person.email);
        await netid.context.startDelivery().idle();
        expect(messagesTo(person.email)).toHaveLength(1);
        const done = await enterCode(agent, again, code, 'the earlier code still works');
        expect(done.document.querySelector('[role=status]')!.text).toBe(en['recover.done']);
      }
    }
    expect(answers[1]).toEqual(answers[0]);
  });

  test('a minute later "Send a new code" sends one, and only the newest code works', async () => {
    const person = await createPerson(netid.context);
    const agent = new UserAgent(netid.issuer);
    const { codeForm } = await askForCode(agent, person.email);
    const first = await codeSentTo(person.email);
    runClockAhead(61);
    const again = await expectPage(agent.submit(codeForm, 'form.secondary-action[action$="/recover"]'));
    expect(again.status).toBe(200);
    expect(again.document.querySelector('[role=status]')!.text).toBe(en['recover.resent'].replace('{identifier}', person.email));
    const second = await codeSentTo(person.email, 1);
    if (second !== first) {
      const refused = await enterCode(agent, again, first, 'the first code no longer works');
      expect(refused.document.querySelector('#code-error')!.text).toBe(en['code.wrong']);
    }
    const done = await enterCode(agent, again, second, 'the newest code works');
    expect(done.document.querySelector('[role=status]')!.text).toBe(en['recover.done']);
  });

  test("the code message is in the profile's language", async () => {
    const person = await createPerson(netid.context);
    await database.db('profiles').where({ id: person.profile.id }).update({ locale: 'ru' });
    await askForCode(new UserAgent(netid.issuer), person.email);
    await codeSentTo(person.email);
    expect(messagesTo(person.email)[0]).toMatchObject({ subject: ru['message.recover-access.subject'] });
    expect(messagesTo(person.email)[0]!.text).toContain(ru['message.recover-access.intro']!);
  });

  test('asking for codes too often answers 429 with a page and Retry-After, whoever the identifier belongs to', async () => {
    const person = await createPerson(netid.context);
    const pages: string[] = [];
    for (const identifier of [person.email, `nobody.${Date.now()}@example.test`]) {
      const agent = new UserAgent(netid.issuer);
      const { form } = await openRecovery(agent);
      const post = async () => {
        const action = new URL(form.document.querySelector('form[action$="/recover"]')!.getAttribute('action')!, form.url).toString();
        const csrf = form.document.querySelector('input[name="csrf"]')!.getAttribute('value')!;
        return fetch(action, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: await agent.jar.getCookieString(action), 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
          body: new URLSearchParams({ csrf, identifier }).toString(),
        });
      };
      // A minute apart, so each request sends a code; the sixth in the hour is one too many.
      for (let i = 0; i < 5; i++) {
        expect((await post()).status).toBe(302);
        runClockAhead(61);
      }
      const throttled = await post();
      expect(throttled.status).toBe(429);
      const wait = Number(throttled.headers.get('retry-after'));
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(3600);
      const html = await throttled.text();
      expect(html).toContain(en['recover.throttled'].replace('{minutes}', String(Math.ceil(wait / 60))));
      pages.push(html.replaceAll(identifier, 'IDENTIFIER').replace(/\/interaction\/[^/"]+/g, '/interaction/UID').replace(/value="[^"]{40,}"/g, 'value=""'));
    }
    expect(pages[1]).toEqual(pages[0]);
    // One code for each of the five requests that were let through.
    await waitFor('five messages', () => messagesTo(person.email).length === 5);
    await netid.context.startDelivery().idle();
    expect(messagesTo(person.email)).toHaveLength(5);
  });

  test('a form without its CSRF token changes nothing', async () => {
    const person = await createPerson(netid.context);
    const agent = new UserAgent(netid.issuer);
    const { form } = await openRecovery(agent);
    const action = new URL(form.document.querySelector('form[action$="/recover"]')!.getAttribute('action')!, form.url).toString();
    const refused = await agent.page(action, { form: { identifier: person.email } });
    expect(refused.status).toBe(403);
    expect(refused.document.querySelector('[role=alert]')!.text).toBe(en['error.csrf']);
    expect(await database.db('one_time_codes').where({ profile_id: person.profile.id })).toHaveLength(0);
  });
});
