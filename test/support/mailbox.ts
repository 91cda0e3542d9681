import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export interface Mailbox {
  /** SMTP_URL for NetID. */
  url: string;
  port: number;
  messages: ReceivedMail[];
  /** Resolves with the first message (already received or arriving later) that matches. */
  waitFor(match: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** The six-digit code in the newest message to `recipient` received after `after` messages. */
  codeFor(recipient: string, after?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A real SMTP server on loopback that keeps what it receives, so tests read
 * codes out of the messages NetID actually sent over SMTP.
 */
export async function startMailbox(port = 0): Promise<Mailbox> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.server.address() as AddressInfo).port;

  const waitFor = (match: (mail: ReceivedMail) => boolean, timeoutMs = 15_000) =>
    new Promise<ReceivedMail>((resolve, reject) => {
      const check = () => {
        const found = messages.find(match);
        if (!found) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching mail within ${timeoutMs} ms; received: ${messages.map((m) => m.to.join(',')).join(' | ')}`));
      }, timeoutMs);
      const wake = () => void check();
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(wake);
      };
      waiters.add(wake);
      check();
    });

  return {
    url: `smtp://127.0.0.1:${bound}`,
    port: bound,
    messages,
    waitFor,
    async codeFor(recipient, after = 0) {
      const to = recipient.toLowerCase();
      // Notices (a sign-in from a new browser, say) reach the same address: the first mail with a code counts.
      const seen = new Set<ReceivedMail>();
      for (;;) {
        const mail = await waitFor((m) => messages.indexOf(m) >= after && m.to.includes(to) && !seen.has(m));
        seen.add(mail);
        const code = /\b(\d{6})\b/.exec((await simpleParser(mail.raw)).text ?? '')?.[1];
        if (code) return code;
      }
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
