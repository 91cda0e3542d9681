import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import Koa from 'koa';
import { parse } from 'node-html-parser';
import { createDevOutboxRouter } from '../../src/delivery/dev-outbox-page.js';
import { createDevOutbox, type DevOutbox } from '../../src/delivery/senders.js';
import { createViews } from '../../src/views/render.js';

describe('the development outbox page', () => {
  let outbox: DevOutbox;
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    outbox = createDevOutbox();
    const app = new Koa();
    app.use(createDevOutboxRouter(outbox, createViews()).routes());
    server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dev/outbox`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('says so when nothing was sent', async () => {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const page = parse(await response.text());
    expect(page.querySelector('h1')!.text).toBe('Development outbox');
    expect(page.querySelectorAll('article')).toHaveLength(0);
    expect(page.querySelector('.notice')!.text).toBe('No messages yet.');
  });

  test('lists messages newest first, with channel, recipient, subject and text, escaped', async () => {
    await outbox.email({ to: 'first@example.test', subject: 'First <b>subject</b>', text: 'code 111111', html: '<p>111111</p>' });
    await outbox.sms({ to: '+14155550123', text: 'Bitrix24 Network: 222222 is your code' });

    const html = await (await fetch(url, { headers: { 'accept-language': 'ru' } })).text();
    const articles = parse(html).querySelectorAll('article');
    expect(articles).toHaveLength(2);
    expect(articles[0]!.querySelector('.channel')!.text).toBe('SMS');
    expect(articles[0]!.querySelector('.to')!.text).toBe('+14155550123');
    expect(articles[0]!.querySelector('.subject')).toBeNull();
    expect(articles[0]!.querySelector('.text')!.text).toContain('222222');
    expect(articles[1]!.querySelector('.to')!.text).toBe('first@example.test');
    expect(articles[1]!.querySelector('.subject')!.text).toBe('First <b>subject</b>');
    expect(html).not.toContain('<b>subject</b>');
    expect(html).toContain('Исходящие сообщения');
  });
});
