import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { en } from '../../src/i18n/en.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson } from '../support/fixtures.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { isPage, UserAgent, type Page, type Redirected } from '../support/user-agent.js';

/**
 * "Forgot password?" as someone probing who is registered sees it, and as the
 * owner sees it while someone else guesses: every sequence of steps answers
 * the same for a registered identifier and for one of nobody, and a guess in
 * one browser never uses up the code another browser is waiting with.
 */
describe.each(backends)('recovery answers alike and keeps the owner\'s code (%s)', (backend) => {
  let database: TestDatabase;
  let mailbox: Mailbox;
  let netid: RunningNetid;
  /** NetID's clock, which moves only when a test lets time pass, so every wait is exact. */
  let now = 0;
  const pass = (seconds: number) => {
    now += seconds * 1000;
  };

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    mailbox = await startMailbox();
    netid = await startNetid(database.db, { env: { SMTP_URL: mailbox.url, DEV_OUTBOX: 'false', OUTBOX_POLL_MS: '100' } });
    netid.context.startDelivery();
  });

  afterAll(async () => {
    await netid?.stop();
    await mailbox?.stop();
    await database?.dispose();
  });

  beforeEach(() => {
    now = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  const asPage = (result: Page | Redirected): Page => {
    if (!isPage(result)) throw new Error(`expected a NetID page, was sent to ${result.location.toString()}`);
    return result;
  };

  /** What a person reads and what their browser is told, without what differs between requests. */
  const answerOf = (page: Page) => ({
    status: page.status,
    path: new URL(page.url).pathname.replace(/\/interaction\/[^/]+/, '/interaction/UID'),
    alert: page.document.querySelector('[role=alert]')?.text.trim(),
    fieldError: page.document.querySelector('#code-error')?.text.trim(),
    retryAfter: page.headers.get('retry-after'),
  });

  /** A fresh sign-in in `agent`, through "Forgot password?", asking for a code for `identifier`. */
  async function askForCode(agent: UserAgent, identifier: string): Promise<Page> {
    const login = await agent.page('/network');
    const form = await agent.page(new URL(login.document.querySelector('a[href$="/recover"]')!.getAttribute('href')!, login.url).toString());
    return asPage(await agent.submit(form, 'form[action$="/recover"]', { identifier }));
  }

  const typeCode = async (agent: UserAgent, page: Page, code: string) =>
    asPage(await agent.submit(page, 'form[action$="/recover/code"]', { code, password: 'a new pass phrase nobody guesses' }));

  const otherThan = (...codes: string[]) => {
    for (let n = 0; ; n++) {
      const candidate = String(n).padStart(6, '0');
      if (!codes.includes(candidate)) return candidate;
    }
  };

  const mailsTo = (email: string) => mailbox.messages.filter((mail) => mail.to.includes(email)).length;

  /**
   * Five wrong codes, then a second recovery within the minute (in the same
   * browser or another), then the first browser's code, then the second
   * recovery a minute on, with a wrong code of its own.
   */
  async function probe(identifier: string, secondBrowser: 'same' | 'other', registered: boolean) {
    const first = new UserAgent(netid.issuer);
    const second = secondBrowser === 'same' ? first : new UserAgent(netid.issuer);
    const before = mailbox.messages.length;
    const transcript = [];

    let page = await askForCode(first, identifier);
    transcript.push(answerOf(page));
    const real = registered ? await mailbox.codeFor(identifier, before) : '';
    for (let i = 0; i < 5; i++) {
      page = await typeCode(first, page, otherThan(real));
      transcript.push(answerOf(page));
    }

    pass(20);
    const tooSoon = await askForCode(second, identifier);
    transcript.push(answerOf(tooSoon));
    transcript.push(answerOf(await typeCode(first, page, real || '123456')));

    pass(40);
    let again = await askForCode(second, identifier);
    transcript.push(answerOf(again));
    const newer = registered ? await mailbox.codeFor(identifier, before + 1) : '';
    again = await typeCode(second, again, otherThan(real, newer));
    transcript.push(answerOf(again));
    // The first browser's code is still its own: used up, not replaced.
    transcript.push(answerOf(await typeCode(first, page, newer || '123456')));
    return transcript;
  }

  test.each(['same', 'other'] as const)(
    'a registered identifier and one of nobody answer alike at every step, the second recovery in the %s browser',
    async (secondBrowser) => {
      const owner = await createPerson(netid.context);
      const nobody = `nobody.${now}@example.test`;
      const registered = await probe(owner.email, secondBrowser, true);
      const unknown = await probe(nobody, secondBrowser, false);

      expect(registered).toEqual([
        { status: 200, path: '/interaction/UID/recover/code', alert: undefined, fieldError: undefined, retryAfter: null },
        ...Array(4).fill({ status: 400, path: '/interaction/UID/recover/code', alert: en['form.has_errors'], fieldError: en['code.wrong'], retryAfter: null }),
        { status: 400, path: '/interaction/UID/recover/code', alert: en['form.has_errors'], fieldError: en['code.exhausted'], retryAfter: null },
        { status: 429, path: '/interaction/UID/recover', alert: en['code.wait'].replace('{wait}', '40 seconds'), fieldError: undefined, retryAfter: '40' },
        { status: 400, path: '/interaction/UID/recover/code', alert: en['form.has_errors'], fieldError: en['code.exhausted'], retryAfter: null },
        { status: 200, path: '/interaction/UID/recover/code', alert: undefined, fieldError: undefined, retryAfter: null },
        { status: 400, path: '/interaction/UID/recover/code', alert: en['form.has_errors'], fieldError: en['code.wrong'], retryAfter: null },
        { status: 400, path: '/interaction/UID/recover/code', alert: en['form.has_errors'], fieldError: en['code.exhausted'], retryAfter: null },
      ]);
      expect(unknown).toEqual(registered);
      // Two codes reached the owner; nothing went to the address of nobody, and it is stored nowhere in clear.
      expect(mailsTo(owner.email)).toBe(2);
      expect(mailsTo(nobody)).toBe(0);
      expect(JSON.stringify(await database.db('one_time_codes').select())).not.toContain(nobody);
    },
  );

  test("an attacker's wrong codes in their browser leave the owner's code working in the owner's browser", async () => {
    const owner = await createPerson(netid.context);
    const ownBrowser = new UserAgent(netid.issuer);
    const codeForm = await askForCode(ownBrowser, owner.email);
    const ownCode = await mailbox.codeFor(owner.email);

    // A minute on, someone else asks for a code for the same email: it goes to the owner too, and is theirs to guess.
    pass(61);
    const attacker = new UserAgent(netid.issuer);
    let guessing = await askForCode(attacker, owner.email);
    expect(guessing.status).toBe(200);
    const attackersCode = await mailbox.codeFor(owner.email, mailbox.messages.findIndex((mail) => mail.to.includes(owner.email)) + 1);
    for (let i = 0; i < 5; i++) guessing = await typeCode(attacker, guessing, otherThan(ownCode, attackersCode));
    expect(answerOf(guessing).fieldError).toBe(en['code.exhausted']);
    // Even the owner's code is refused there: it belongs to the owner's sign-in.
    expect(answerOf(await typeCode(attacker, guessing, ownCode)).fieldError).toBe(en['code.exhausted']);

    const done = await typeCode(ownBrowser, codeForm, ownCode);
    expect(done.status).toBe(200);
    expect(done.document.querySelector('[role=status]')?.text).toBe(en['recover.done']);
    const home = await ownBrowser.submit(done, 'form[action$="/login"]', { identifier: owner.email, password: 'a new pass phrase nobody guesses' });
    expect(new URL(asPage(home).url).pathname).toBe('/network');
  });
});
