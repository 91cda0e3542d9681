import net from 'node:net';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { chooseLocale } from '../../src/i18n/messages.js';
import { ru } from '../../src/i18n/ru.js';
import { startDeliveryWorker, type DeliveryWorker } from '../../src/delivery/worker.js';
import { createLogger } from '../../src/logging.js';
import { sendCode } from '../../src/profile/send-code.js';
import { hashPassword } from '../../src/security/passwords.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson } from '../support/fixtures.js';
import { simpleParser } from 'mailparser';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { startSmsGateway, type SmsGateway } from '../support/sms-gateway.js';
import { UserAgent } from '../support/user-agent.js';
import { sleep, waitFor } from '../support/wait.js';

/** A loopback port nothing listens on (yet). */
async function unusedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

interface OutboxState {
  state: string;
  attempts: number;
  params: unknown;
  last_error: string | null;
}

describe.each(backends)('the delivery worker (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid | undefined;
  let worker: DeliveryWorker | undefined;
  let smtp: Mailbox | undefined;
  let gateway: SmsGateway | undefined;

  beforeEach(async () => {
    database = await createTestDatabase(backend);
  });

  afterEach(async () => {
    await worker?.stop();
    await netid?.stop();
    await smtp?.stop();
    await gateway?.stop();
    [worker, netid, smtp, gateway] = [undefined, undefined, undefined, undefined];
    await database.dispose();
  });

  /** A worker that polls often and retries at once, so a test sees several attempts in well under a second. */
  const startFastWorker = (running: RunningNetid) =>
    startDeliveryWorker(running.context.db, running.context.sealer, running.context.senders, createLogger('silent'), {
      pollMilliseconds: 50,
      backoff: () => 0.2,
    });

  const outboxRows = () => database.db('outbox').orderBy('id').select<OutboxState[]>('state', 'attempts', 'params', 'last_error');

  test('an email queued while the mail server is down arrives once it is back, exactly once', async () => {
    const port = await unusedPort();
    netid = await startNetid(database.db, { env: { SMTP_URL: `smtp://127.0.0.1:${port}`, DEV_OUTBOX: 'false' } });
    const person = await createPerson(netid.context);
    worker = startFastWorker(netid);

    const issued = await sendCode(netid.context.queries, netid.context.wakeDelivery, {
      purpose: 'recover-access',
      identifier: person.email,
      requester: 'a sign-in',
      reaches: { profileId: person.profile.id, target: person.email },
      channel: 'email',
      locale: 'en',
    });
    if (!issued.issued || !issued.code) throw new Error('no code was issued');

    const failing = await waitFor('two failed attempts', async () => {
      const [row] = await outboxRows();
      return row && row.attempts >= 2 ? row : undefined;
    });
    expect(failing).toMatchObject({ state: 'pending' });
    expect(failing.last_error).toMatch(/ECONNREFUSED|connect/i);

    smtp = await startMailbox(port);
    await waitFor('the message to arrive', () => smtp!.messages.length > 0);
    await waitFor('the outbox row to be sent', async () => (await outboxRows())[0]?.state === 'sent');
    // Several more polls: a delivered message is never sent again.
    await sleep(400);
    expect(smtp.messages).toHaveLength(1);

    const [mail] = smtp.messages;
    expect(mail!.to).toEqual([person.email]);
    const parsed = await simpleParser(mail!.raw);
    expect(parsed.subject).toBe('Recover access to your Bitrix24 Network profile');
    expect(parsed.text).toContain(issued.code);
    expect(parsed.html).toContain(issued.code);

    const rows = await outboxRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'sent', params: null, last_error: null });
  });

  test('an SMS goes to the HTTP gateway with its authorization and body template, and a 500 is retried', async () => {
    gateway = await startSmsGateway();
    gateway.answer = 500;
    netid = await startNetid(database.db, {
      env: {
        DEV_OUTBOX: 'false',
        SMS_GATEWAY_URL: gateway.url,
        SMS_GATEWAY_AUTHORIZATION: 'Bearer gateway-test-token',
        SMS_GATEWAY_BODY: '{"recipient":"{to}","message":"{text}","sender":"NetID"}',
      },
    });
    const phone = '+14155550123';
    const profile = await netid.context.queries.profiles.insert({
      phone,
      phoneVerified: true,
      passwordHash: await hashPassword('an sms pass phrase'),
    });
    worker = startFastWorker(netid);

    const issued = await sendCode(netid.context.queries, netid.context.wakeDelivery, {
      purpose: 'recover-access',
      identifier: phone,
      requester: 'a sign-in',
      reaches: { profileId: profile.id, target: phone },
      channel: 'sms',
      locale: 'en',
    });
    if (!issued.issued || !issued.code) throw new Error('no code was issued');

    const failing = await waitFor('a refused attempt', async () => {
      const [row] = await outboxRows();
      return row && row.attempts >= 1 && row.last_error ? row : undefined;
    });
    expect(failing).toMatchObject({ state: 'pending', last_error: 'SMS gateway answered 500' });

    gateway.answer = 200;
    await waitFor('the outbox row to be sent', async () => (await outboxRows())[0]?.state === 'sent');
    expect(gateway.received).toHaveLength(1);
    const [sms] = gateway.received;
    expect(sms!.authorization).toBe('Bearer gateway-test-token');
    expect(sms!.contentType).toBe('application/json');
    expect(JSON.parse(sms!.body)).toEqual({ recipient: phone, message: expect.stringContaining(issued.code), sender: 'NetID' });
    const [row] = await outboxRows();
    expect(row).toMatchObject({ state: 'sent', params: null, last_error: null });
    expect(row!.attempts).toBeGreaterThanOrEqual(2);
  });

  test("an email speaks the profile's language: Russian subject, text and html", async () => {
    smtp = await startMailbox();
    netid = await startNetid(database.db, { env: { SMTP_URL: smtp.url, DEV_OUTBOX: 'false' } });
    const person = await createPerson(netid.context);
    await database.db('profiles').where({ id: person.profile.id }).update({ locale: 'ru' });
    const profile = (await netid.context.queries.profiles.findById(person.profile.id))!;
    worker = startFastWorker(netid);

    // As the sign-in screen does: the profile's own language wins over the browser's.
    const issued = await sendCode(netid.context.queries, netid.context.wakeDelivery, {
      purpose: 'recover-access',
      identifier: person.email,
      requester: 'a sign-in',
      reaches: { profileId: profile.id, target: person.email },
      channel: 'email',
      locale: chooseLocale(profile.locale, () => 'en'),
    });
    if (!issued.issued || !issued.code) throw new Error('no code was issued');

    await waitFor('the message to arrive', () => smtp!.messages.length > 0);
    const parsed = await simpleParser(smtp.messages[0]!.raw);
    expect(parsed.subject).toBe(ru['message.recover-access.subject']);
    const text = parsed.text ?? '';
    const html = parsed.html || '';
    for (const part of [text, html]) {
      expect(part).toContain(ru['message.greeting']!);
      expect(part).toContain(ru['message.recover-access.intro']!);
      expect(part).toContain(ru['message.code_expiry']!);
      expect(part).toContain(issued.code);
      expect(part).not.toContain('Enter this code');
    }
    expect(html).toContain('<html lang="ru">');
  });

  test('a code waits in the outbox sealed: the row does not hold it, and the mailbox still receives it', async () => {
    smtp = await startMailbox();
    netid = await startNetid(database.db, { env: { SMTP_URL: smtp.url, DEV_OUTBOX: 'false' } });
    const person = await createPerson(netid.context);

    // Asked for at "Forgot password?" while no worker runs, so the message stays queued.
    const agent = new UserAgent(netid.issuer);
    const login = await agent.page('/network');
    const form = await agent.page(new URL(login.document.querySelector('a[href$="/recover"]')!.getAttribute('href')!, login.url).toString());
    await agent.submit(form, 'form[action$="/recover"]', { identifier: person.email });
    const queued = await database.db('outbox').where({ recipient: person.email }).select();
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ state: 'pending', template: 'recover-access' });

    worker = startFastWorker(netid);
    const code = await smtp.codeFor(person.email);
    expect(JSON.stringify(queued)).not.toContain(code);
    await waitFor('the outbox row to be sent', async () => (await outboxRows())[0]?.state === 'sent');
  });

  test('a message queued by an older version, with plain params, is still delivered', async () => {
    smtp = await startMailbox();
    netid = await startNetid(database.db, { env: { SMTP_URL: smtp.url, DEV_OUTBOX: 'false' } });
    await database.db('outbox').insert({
      channel: 'email',
      recipient: 'earlier@example.test',
      template: 'confirm-email',
      locale: 'en',
      params: JSON.stringify({ code: '407215' }),
    });
    worker = startFastWorker(netid);
    expect(await smtp.codeFor('earlier@example.test')).toBe('407215');
    await waitFor('the outbox row to be sent', async () => (await outboxRows())[0]?.state === 'sent');
  });
});
