import nodemailer from 'nodemailer';

export interface RenderedEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface RenderedSms {
  to: string;
  text: string;
}

export interface Senders {
  email(message: RenderedEmail): Promise<void>;
  sms(message: RenderedSms): Promise<void>;
}

/** SMTP through nodemailer; SMTP_URL is nodemailer's connection URL (smtp:// or smtps://). */
export function smtpEmailSender(smtpUrl: string, from: string): Senders['email'] {
  const transport = nodemailer.createTransport(smtpUrl);
  return async (message) => {
    await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text, html: message.html });
  };
}

export interface SmsGatewayOptions {
  url: string;
  authorization?: string | undefined;
  /** Body with {to} and {text} placeholders; values are JSON-escaped when the body is JSON. */
  bodyTemplate: string;
  contentType: string;
}

/** Any HTTP SMS gateway: one POST per message, a 2xx answer means accepted. */
export function httpSmsSender(options: SmsGatewayOptions): Senders['sms'] {
  const json = options.contentType.includes('json');
  const escape = (value: string) => (json ? JSON.stringify(value).slice(1, -1) : encodeURIComponent(value));
  return async (message) => {
    const body = options.bodyTemplate.replaceAll('{to}', escape(message.to)).replaceAll('{text}', escape(message.text));
    const response = await fetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': options.contentType,
        ...(options.authorization ? { authorization: options.authorization } : {}),
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`SMS gateway answered ${response.status}`);
  };
}

export interface DevOutboxEntry {
  channel: 'email' | 'sms';
  to: string;
  subject?: string;
  text: string;
  at: Date;
}

/**
 * The development outbox: messages kept in memory and shown at /dev/outbox,
 * so sign-up can be finished with no mail server. Never enabled in production.
 */
export function createDevOutbox(capacity = 100) {
  const entries: DevOutboxEntry[] = [];
  const keep = (entry: DevOutboxEntry) => {
    entries.unshift(entry);
    entries.length = Math.min(entries.length, capacity);
  };
  return {
    entries: () => [...entries],
    email: async (message: RenderedEmail) => keep({ channel: 'email', to: message.to, subject: message.subject, text: message.text, at: new Date() }),
    sms: async (message: RenderedSms) => keep({ channel: 'sms', to: message.to, text: message.text, at: new Date() }),
  };
}

export type DevOutbox = ReturnType<typeof createDevOutbox>;
