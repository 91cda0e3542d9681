import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { en } from '../../src/i18n/en.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson } from '../support/fixtures.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { isPage, UserAgent, type Page, type Redirected } from '../support/user-agent.js';

/**
 * Password guessing at the sign-in screen, as an attacker and the owner see
 * it: the address that keeps failing waits longer and longer, the owner's
 * right password from elsewhere goes through, and only many failures from
 * many addresses lock the identifier, until its owner recovers access.
 */
describe.each(backends)('slowing password guessing at the sign-in screen (%s)', (backend) => {
  let database: TestDatabase;
  let mailbox: Mailbox;
  let netid: RunningNetid;
  /** NetID's clock, which moves only when a test lets time pass, so every wait is exact. */
  let now = 0;
  const pass = (seconds: number) => {
    now += seconds * 1000;
  };
  let addresses = 0;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    mailbox = await startMailbox();
    // Behind a reverse proxy, so each browser can come from an address of its own.
    netid = await startNetid(database.db, {
      env: { TRUST_PROXY: 'true', SMTP_URL: mailbox.url, DEV_OUTBOX: 'false', OUTBOX_POLL_MS: '100' },
    });
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

  /** A browser on a machine of its own. */
  const browser = () => {
    addresses += 1;
    return new UserAgent(netid.issuer, { forwardedFor: `198.51.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}` });
  };

  /** The sign-in form of a fresh sign-in to My Network. */
  const loginForm = (agent: UserAgent) => agent.page('/network');

  const submitLogin = (agent: UserAgent, page: Page, identifier: string, password: string) =>
    agent.submit(page, 'form[action$="/login"]', { identifier, password });

  /** What a person reads and what their browser is told. */
  const answerOf = (result: Page | Redirected) =>
    isPage(result)
      ? {
          status: result.status,
          alert: result.document.querySelector('[role=alert]')?.text.trim(),
          retryAfter: result.headers.get('retry-after'),
        }
      : { status: 302, alert: undefined, retryAfter: null };

  const wrong = { status: 401, alert: en['login.failed'], retryAfter: null };
  const slowed = (seconds: number, wait: string) => ({
    status: 429,
    alert: en['login.throttled'].replace('{wait}', wait),
    retryAfter: String(seconds),
  });

  /** Wrong passwords from one browser, on one form as a person retyping would. */
  async function guess(agent: UserAgent, identifier: string, times: number) {
    const answers = [];
    let page = await loginForm(agent);
    for (let i = 0; i < times; i++) {
      const result = await submitLogin(agent, page, identifier, `wrong guess ${i}`);
      answers.push(answerOf(result));
      if (isPage(result)) page = result;
    }
    return { answers, page };
  }

  test('the address that keeps failing waits longer each time; the owner signs in from another', async () => {
    const owner = await createPerson(netid.context);
    const attacker = browser();

    const { answers, page } = await guess(attacker, owner.email, 6);
    expect(answers).toEqual([...Array(5).fill(wrong), slowed(30, '30 seconds')]);
    // Not even the right password is tried while the address waits.
    expect(answerOf(await submitLogin(attacker, page, owner.email, owner.password))).toEqual(slowed(30, '30 seconds'));
    expect(page.document.querySelector('a[href$="/recover"]')?.text).toBe(en['login.forgot']);

    // Each wrong password after a wait doubles the next wait, counted from that failure.
    let form = page;
    for (const [waited, next] of [
      [30, slowed(60, '60 seconds')],
      [60, slowed(120, '2 minutes')],
      [120, slowed(240, '4 minutes')],
      [240, slowed(480, '8 minutes')],
      [480, slowed(900, '15 minutes')],
    ] as const) {
      pass(waited - 1);
      expect(answerOf(await submitLogin(attacker, form, owner.email, 'still guessing'))).toEqual(slowed(1, '1 second'));
      pass(1);
      const result = await submitLogin(attacker, form, owner.email, 'still guessing');
      expect(answerOf(result)).toEqual(wrong);
      form = result as Page;
      expect(answerOf(await submitLogin(attacker, form, owner.email, 'still guessing'))).toEqual(next);
    }

    // Ten wrong passwords later, the owner's own browser is let in at the first try.
    const ownBrowser = browser();
    const home = await submitLogin(ownBrowser, await loginForm(ownBrowser), owner.email, owner.password);
    if (!isPage(home)) throw new Error('signing in to My Network left NetID');
    expect(home.status).toBe(200);
    expect(new URL(home.url).pathname).toBe('/network');
    expect(home.document.querySelector('form[action$="/login"]')).toBeNull();
  });

  test('an identifier that belongs to nobody is slowed exactly like a registered one', async () => {
    const owner = await createPerson(netid.context);
    const transcripts = [];
    for (const identifier of [owner.email, `nobody.${Date.now()}@example.test`]) {
      const attacker = browser();
      const { answers, page } = await guess(attacker, identifier, 6);
      pass(30);
      const after = await submitLogin(attacker, page, identifier, 'one more');
      answers.push(answerOf(after));
      answers.push(answerOf(await submitLogin(attacker, after as Page, identifier, 'and another')));
      transcripts.push(answers);
    }
    expect(transcripts[0]).toEqual([...Array(5).fill(wrong), slowed(30, '30 seconds'), wrong, slowed(60, '60 seconds')]);
    expect(transcripts[1]).toEqual(transcripts[0]);
  });

  test('a hundred failures from many addresses lock the identifier for everyone, until its owner recovers access', async () => {
    const owner = await createPerson(netid.context);
    for (let machine = 0; machine < 20; machine++) {
      const { answers } = await guess(browser(), owner.email, 5);
      expect(answers).toEqual(Array(5).fill(wrong));
    }

    const ownBrowser = browser();
    const locked = await submitLogin(ownBrowser, await loginForm(ownBrowser), owner.email, owner.password);
    expect(answerOf(locked)).toEqual(slowed(3600, '60 minutes'));
    // Another identifier is not locked by it.
    const other = await createPerson(netid.context);
    expect(answerOf(await submitLogin(ownBrowser, locked as Page, other.email, 'a wrong password'))).toEqual(wrong);

    // "Forgot password?" works meanwhile, and the new password lets the owner in at once.
    const lockedPage = locked as Page;
    const recover = await ownBrowser.page(new URL(lockedPage.document.querySelector('a[href$="/recover"]')!.getAttribute('href')!, lockedPage.url).toString());
    const codeForm = await ownBrowser.submit(recover, 'form[action$="/recover"]', { identifier: owner.email });
    if (!isPage(codeForm)) throw new Error('recovery left NetID');
    const newPassword = 'a new pass phrase after the lock';
    const done = await ownBrowser.submit(codeForm, 'form[action$="/recover/code"]', { code: await mailbox.codeFor(owner.email), password: newPassword });
    if (!isPage(done)) throw new Error('recovery left NetID');
    expect(done.document.querySelector('[role=status]')?.text).toBe(en['recover.done']);
    const home = await submitLogin(ownBrowser, done, owner.email, newPassword);
    if (!isPage(home)) throw new Error('signing in to My Network left NetID');
    expect(new URL(home.url).pathname).toBe('/network');
    expect(home.document.querySelector('form[action$="/login"]')).toBeNull();
  });
});
