import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSms {
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

export interface SmsGateway {
  /** SMS_GATEWAY_URL for NetID. */
  url: string;
  received: ReceivedSms[];
  /** Status the gateway answers with; 200 accepts, anything else makes NetID retry. */
  answer: number;
  /** The six-digit code in the newest SMS to `phone` received after `after` messages. */
  codeFor(phone: string, after?: number, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** An HTTP SMS gateway stand-in on loopback: it records each POST NetID makes. */
export async function startSmsGateway(): Promise<SmsGateway> {
  const gateway: SmsGateway = {
    url: '',
    received: [],
    answer: 200,
    async codeFor(phone, after = 0, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const sms = gateway.received.slice(after).reverse().find((m) => m.body.includes(phone));
        const code = sms && /\b(\d{6})\b/.exec(sms.body)?.[1];
        if (code) return code;
        if (Date.now() > deadline) throw new Error(`no SMS to ${phone} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (gateway.answer === 200) {
        gateway.received.push({
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        });
      }
      res.writeHead(gateway.answer, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gateway.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`;
  gateway.stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return gateway;
}
