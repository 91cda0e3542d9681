import path from 'node:path';
import { Eta } from 'eta';
import { translator, type MessageKey } from '../i18n/messages.js';
import { VIEWS_DIRECTORY } from '../views/render.js';
import { isNoticeTemplate, type OutboxRow } from './outbox.js';
import type { RenderedEmail, RenderedSms } from './senders.js';

const html = new Eta({ views: path.join(VIEWS_DIRECTORY, 'email'), cache: true, autoEscape: true, autoTrim: false });
// Plain text is not HTML: escaping would show "&amp;" in a mail client.
const text = new Eta({ views: path.join(VIEWS_DIRECTORY, 'email'), cache: true, autoEscape: false, autoTrim: false });

/** Turns an outbox row into the text a person receives, in the row's locale. */
export function renderEmail(row: OutboxRow): RenderedEmail {
  const t = translator(row.locale);
  const subject = t(`message.${row.template}.subject` as MessageKey, row.params);
  const data = { t, locale: row.locale, template: row.template, params: row.params, subject };
  // A notice has no code to show, and its own closing line in place of the code's expiry.
  const layout = isNoticeTemplate(row.template) ? 'notice' : 'code';
  // Full file names: Eta adds ".eta" only to a name without an extension, and "code.text" has one.
  return { to: row.recipient, subject, text: text.render(`${layout}.text.eta`, data), html: html.render(`${layout}.html.eta`, data) };
}

export function renderSms(row: OutboxRow): RenderedSms {
  const t = translator(row.locale);
  return { to: row.recipient, text: t(`message.${row.template}.sms` as MessageKey, { code: '', ...row.params }) };
}
