import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { simpleParser } from 'mailparser';
import { en } from '../../src/i18n/en.js';
import { ru } from '../../src/i18n/ru.js';
import { CODE_RESEND_SECONDS } from '../../src/profile/one-time-codes.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, type TestPerson } from '../support/fixtures.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { isPage, UserAgent, type Page } from '../support/user-agent.js';

/**
 * "Create for free" with an email that already belongs to a profile answers
 * exactly as with a new email; only the owner of the address hears of it, by
 * a notice in their inbox.
 */
describe.each(backends)('sign-up with an email that is already registered (%s)', (backend) => {
  let database: TestDatabase;
  let mailbox: Mailbox;
  let netid: RunningNetid;
  let counter = 0;

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

  const newEmail = () => `newcomer${++counter}.${Date.now()}@example.test`;

  async function expectPage(result: Promise<Page | { location: URL }>): Promise<Page> {
    const answer = await result;
    if (!isPage(answer)) throw new Error(`expected a NetID page, was sent to ${answer.location.toString()}`);
    return answer;
  }

  /** "Create for free" from the network profile, in a fresh browser, up to the page that answers. */
  async function signUpWith(email: string): Promise<{ agent: UserAgent; page: Page }> {
    const agent = new UserAgent(netid.issuer);
    const form = await agent.page('/network/sign-up');
    const page = await expectPage(
      agent.submit(form, 'form[action$="/signup"]', { first_name: 'Sam', last_name: 'Newcomer', email, password: 'a good long pass phrase' }),
    );
    return { agent, page };
  }

  /** A page as a person reads it, without what differs between any two requests (interaction, CSRF token, email). */
  const readable = (page: Page, email: string) =>
    page.document
      .querySelector('main')!
      .innerHTML.replaceAll(email, 'EMAIL')
      .replace(/\/interaction\/[^/"]+/g, '/interaction/UID')
      .replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value=""');

  const answerOf = (page: Page, email: string) => ({
    status: page.status,
    path: new URL(page.url).pathname.replace(/\/interaction\/[^/]+/, '/interaction/UID'),
    page: readable(page, email),
  });

  const alert = (page: Page) => page.document.querySelector('[role=alert]')?.text.trim();
  const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

  async function store() {
    const { db } = netid.context;
    const count = async (table: string) => Number((await db(table).count<{ n: string }[]>({ n: '*' }).first())?.n);
    return { profiles: await count('profiles'), accounts: await count('accounts'), memberships: await count('memberships'), clients: await count('clients') };
  }

  /** Every message queued for `email`, once the delivery worker has nothing left to do. */
  async function queuedFor(email: string): Promise<string[]> {
    await netid.context.startDelivery().idle();
    return (await netid.context.db('outbox').where({ recipient: email }).orderBy('id')).map((row: { template: string }) => row.template);
  }

  const mailsTo = (email: string) => mailbox.messages.filter((mail) => mail.to.includes(email));

  test('answers a taken email with the same confirmation step as a new one, creates nothing, and tells the owner', async () => {
    const owner = await createPerson(netid.context);
    const fresh = newEmail();

    const before = await store();
    const created = await signUpWith(fresh);
    const afterNew = await store();
    const taken = await signUpWith(owner.email);
    const afterTaken = await store();

    expect(created.page.status).toBe(200);
    expect(created.page.document.querySelector('h1')!.text).toBe(en['confirm_email.title']);
    expect(created.page.document.querySelector('form[action$="/confirm-email"]')).not.toBeNull();
    expect(created.page.html).toContain(fresh);
    expect(taken.page.html).toContain(owner.email);
    expect(answerOf(taken.page, owner.email)).toEqual(answerOf(created.page, fresh));

    // The new email made a profile and its account; the taken one nothing at all.
    expect(afterNew.profiles).toBe(before.profiles + 1);
    expect(afterNew.accounts).toBe(before.accounts + 1);
    expect(afterTaken).toEqual(afterNew);
    expect(await netid.context.db('one_time_codes').where({ profile_id: owner.profile.id })).toHaveLength(0);

    // The newcomer gets a code; the owner a notice without one.
    await mailbox.codeFor(fresh);
    const notice = await simpleParser((await mailbox.waitFor((mail) => mail.to.includes(owner.email))).raw);
    expect(notice.subject).toBe(en['message.existing-profile.subject']);
    for (const key of ['message.existing-profile.intro', 'message.existing-profile.action', 'message.existing-profile.not_you'] as const) {
      expect(notice.text).toContain(en[key]);
      expect(notice.html).toContain(en[key]);
    }
    expect(notice.text).not.toMatch(/\b\d{6}\b/);
    expect(await queuedFor(owner.email)).toEqual(['existing-profile']);

    const events = (await netid.context.queries.audit.list({ kind: 'signup.existing_email', profileId: owner.profile.id }, { limit: 100 })).items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ detail: { noticeSent: true } });
  });

  test('a second attempt within the hour answers the same and sends no second notice', async () => {
    const owner = await createPerson(netid.context);
    const first = await signUpWith(owner.email.toUpperCase());
    await mailbox.waitFor((mail) => mail.to.includes(owner.email));
    const second = await signUpWith(owner.email);
    expect(answerOf(second.page, owner.email)).toEqual(answerOf(first.page, owner.email));

    expect(await queuedFor(owner.email)).toEqual(['existing-profile']);
    expect(mailsTo(owner.email)).toHaveLength(1);
    const events = (await netid.context.queries.audit.list({ kind: 'signup.existing_email', profileId: owner.profile.id }, { limit: 100 })).items;
    expect(events.map((event) => event.detail.noticeSent)).toEqual([false, true]);
  });

  test('codes typed after a taken email are refused as a real code refuses them: wrong, then exhausted', async () => {
    const owner = await createPerson(netid.context);
    const transcripts: { status: number; alert: string | undefined }[][] = [];
    for (const email of [newEmail(), owner.email]) {
      let { agent, page } = await signUpWith(email);
      const code = email === owner.email ? '123456' : await mailbox.codeFor(email);
      const transcript: { status: number; alert: string | undefined }[] = [];
      const attempt = async (typed: string) => {
        page = await expectPage(agent.submit(page, 'form[action$="/confirm-email"]', { code: typed }));
        transcript.push({ status: page.status, alert: alert(page) });
      };
      await attempt('12ab56');
      for (let i = 0; i < 5; i++) await attempt(otherCode(code));
      // Once exhausted even the right code is refused.
      await attempt(code);
      transcripts.push(transcript);
    }
    expect(transcripts[0]).toEqual([
      { status: 400, alert: en['code.format'] },
      ...Array(4).fill({ status: 400, alert: en['code.wrong'] }),
      { status: 400, alert: en['code.exhausted'] },
      { status: 400, alert: en['code.exhausted'] },
    ]);
    expect(transcripts[1]).toEqual(transcripts[0]);
  });

  test('"Send a new code" answers as the real step does: first the wait, then a new code on its way', async () => {
    const owner = await createPerson(netid.context);
    const fresh = newEmail();
    const answers = [];
    for (const email of [fresh, owner.email]) {
      const { agent, page } = await signUpWith(email);
      const resend = () => expectPage(agent.submit(page, 'form[action$="/confirm-email/resend"]'));
      const tooSoon = await resend();
      expect(tooSoon.status).toBe(429);
      expect(alert(tooSoon)).toMatch(/^Wait \d+ seconds before you ask for another code/);
      expect(Number(tooSoon.headers.get('retry-after'))).toBeGreaterThan(0);

      // A minute later, for NetID's clock; the codes in the database compare their creation time with it.
      const now = Date.now();
      const later = jest.spyOn(Date, 'now').mockImplementation(() => now + (CODE_RESEND_SECONDS + 1) * 1000);
      let resent: Page;
      try {
        resent = await resend();
      } finally {
        later.mockRestore();
      }
      expect(resent.status).toBe(200);
      expect(resent.document.querySelector('[role=status]')!.text.trim()).toBe(en['code.resent']);
      // The new code, real or pretended, comes with all its tries.
      const tried = await expectPage(agent.submit(resent, 'form[action$="/confirm-email"]', { code: '000000' }));
      expect(alert(tried)).toBe(en['code.wrong']);
      // The seconds left depend on how fast this test runs, not on the email.
      answers.push([tooSoon, resent, tried].map((answer) => answerOf(answer, email)).map((a) => ({ ...a, page: a.page.replace(/\d+ seconds/, 'N seconds') })));
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(await queuedFor(fresh)).toEqual(['confirm-email', 'confirm-email']);
    // The owner got the one notice and no code, however often "Send a new code" was pressed.
    expect(await queuedFor(owner.email)).toEqual(['existing-profile']);
  });

  test("the notice is in the owner's language", async () => {
    const owner = await createPerson(netid.context);
    await database.db('profiles').where({ id: owner.profile.id }).update({ locale: 'ru' });
    await signUpWith(owner.email);
    const notice = await simpleParser((await mailbox.waitFor((mail) => mail.to.includes(owner.email))).raw);
    expect(notice.subject).toBe(ru['message.existing-profile.subject']);
    expect(notice.text).toContain(ru['message.existing-profile.intro']);
    expect(notice.html).toContain(ru['message.existing-profile.action']);
  });
});
