import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { en } from '../../src/i18n/en.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson } from '../support/fixtures.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { alertText, signInToNetwork, submitPage } from '../support/network.js';
import { startSmsGateway, type SmsGateway } from '../support/sms-gateway.js';
import { isPage, UserAgent, type Page } from '../support/user-agent.js';

/**
 * A code allows five tries; what bounds guessing is how many codes anyone can
 * have sent: one a minute and five an hour per profile (or identifier) and
 * purpose, whatever the step that sends them.
 */
describe.each(backends)('how often codes are sent (%s)', (backend) => {
  let database: TestDatabase;
  let mailbox: Mailbox;
  let sms: SmsGateway;
  let netid: RunningNetid;
  let counter = 0;
  /** NetID's clock, which moves only when a test lets time pass. */
  let now = 0;
  const pass = (seconds: number) => {
    now += seconds * 1000;
  };

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    mailbox = await startMailbox();
    sms = await startSmsGateway();
    netid = await startNetid(database.db, {
      env: { SMTP_URL: mailbox.url, SMS_GATEWAY_URL: sms.url, DEV_OUTBOX: 'false', OUTBOX_POLL_MS: '100' },
    });
    netid.context.startDelivery();
  });

  afterAll(async () => {
    await netid?.stop();
    await mailbox?.stop();
    await sms?.stop();
    await database?.dispose();
  });

  beforeEach(() => {
    now = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  const answerOf = (page: Page) => ({
    status: page.status,
    alert: page.document.querySelector('[role=alert]')?.text.trim(),
    notice: page.document.querySelector('[role=status]')?.text.trim(),
    retryAfter: page.headers.get('retry-after'),
  });

  const waitAnswer = (seconds: number, wait: string) => ({
    status: 429,
    alert: en['code.wait'].replace('{wait}', wait),
    notice: undefined,
    retryAfter: String(seconds),
  });

  async function expectPage(result: Promise<Page | { location: URL }>): Promise<Page> {
    const answer = await result;
    if (!isPage(answer)) throw new Error(`expected a NetID page, was sent to ${answer.location.toString()}`);
    return answer;
  }

  test('email confirmation sends five codes an hour, and a sign-up with a taken email answers the same', async () => {
    const owner = await createPerson(netid.context);
    const fresh = `newcomer${++counter}.${Date.now()}@example.test`;
    const transcripts = [];
    for (const email of [fresh, owner.email]) {
      const agent = new UserAgent(netid.issuer);
      const form = await agent.page('/network/sign-up');
      const confirm = await expectPage(
        agent.submit(form, 'form[action$="/signup"]', { first_name: 'Sam', last_name: 'Newcomer', email, password: 'a good long pass phrase' }),
      );
      const resend = () => expectPage(agent.submit(confirm, 'form[action$="/confirm-email/resend"]')).then(answerOf);
      const transcript = [await resend()];
      // Four more codes, one a minute: with the one sent at sign-up, five in the hour.
      for (let i = 0; i < 4; i++) {
        pass(61);
        transcript.push(await resend());
      }
      pass(61);
      transcript.push(await resend());
      pass(3600 - 5 * 61 - 1);
      transcript.push(await resend());
      transcripts.push(transcript);
    }
    expect(transcripts[0]).toEqual([
      waitAnswer(60, '60 seconds'),
      ...Array(4).fill({ status: 200, alert: undefined, notice: en['code.resent'], retryAfter: null }),
      waitAnswer(3600 - 5 * 61, '55 minutes'),
      waitAnswer(1, '1 second'),
    ]);
    expect(transcripts[1]).toEqual(transcripts[0]);
    await netid.context.startDelivery().idle();
    expect(mailbox.messages.filter((mail) => mail.to.includes(fresh))).toHaveLength(5);
  });

  test('connecting a phone sends five codes an hour, then says how long to wait', async () => {
    const person = await createPerson(netid.context);
    const agent = new UserAgent(netid.issuer);
    await signInToNetwork(agent, person.email, person.password);
    const phone = '+442079460958';
    const before = sms.received.filter((message) => message.body.includes(phone)).length;
    const ask = async () => {
      // Changing the phone needs a sign-in in the last 5 minutes: the person signs in again when asked to.
      let form = await agent.page('/network/phone');
      let page = await submitPage(agent, form, 'form[action="/network/phone"]', { value: phone, propagate: '' });
      if (page.document.querySelector('form[action$="/login"]')) {
        form = await submitPage(agent, page, 'form[action$="/login"]', { identifier: person.email, password: person.password });
        page = await submitPage(agent, form, 'form[action="/network/phone"]', { value: phone, propagate: '' });
      }
      return { status: page.status, alert: alertText(page), retryAfter: page.headers.get('retry-after') };
    };
    for (let i = 0; i < 5; i++) {
      expect(await ask()).toEqual({ status: 200, alert: '', retryAfter: null });
      pass(61);
    }
    expect(await ask()).toEqual({ status: 429, alert: en['code.wait'].replace('{wait}', '55 minutes'), retryAfter: String(3600 - 5 * 61) });
    await netid.context.startDelivery().idle();
    expect(sms.received.filter((message) => message.body.includes(phone)).length - before).toBe(5);
  });
});
