import path from 'node:path';
import { Eta } from 'eta';
import type { Context } from 'koa';
import { projectRoot } from '../config/project-root.js';
import { DEFAULT_LOCALE, formatWait, isMessageKey, SUPPORTED_LOCALES, translator, type MessageKey } from '../i18n/messages.js';

export const VIEWS_DIRECTORY = path.join(projectRoot(), 'views');

/** Picks the page language from Accept-Language among the catalogues NetID has. */
export function localeOf(ctx: Context): string {
  const chosen = ctx.acceptsLanguages(SUPPORTED_LOCALES);
  return typeof chosen === 'string' ? chosen : DEFAULT_LOCALE;
}

/**
 * A problem NetID sent the browser back to a page with (`?problem=…`, e.g. a
 * form too long to read). Only known `problem.` messages: the address must not
 * be a way to put words on NetID's pages.
 */
function problemOf(ctx: Context): MessageKey | undefined {
  const problem = ctx.query.problem;
  return typeof problem === 'string' && problem.startsWith('problem.') && isMessageKey(problem) ? problem : undefined;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * HTML-escapes a value for a page, and shows any control character (but tab
 * and line breaks) as U+FFFD: a form that refused one echoes what was typed,
 * and a NUL has no place in a page (HTML parsers replace it anyway).
 */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/[&<>"']/g, (character) => HTML_ESCAPES[character]!)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '\ufffd');
}

export function createViews(directory = VIEWS_DIRECTORY) {
  // autoEscape: every `<%= %>` is HTML-escaped; templates never build markup from strings.
  const eta = new Eta({ views: directory, cache: true, autoEscape: true, autoTrim: false, escapeFunction: escapeHtml });

  return {
    html(ctx: Context, template: string, data: Record<string, unknown> = {}): string {
      const locale = localeOf(ctx);
      const t = translator(locale);
      return eta.render(template, { problem: problemOf(ctx), ...data, locale, t, wait: (seconds: number) => formatWait(t, seconds) });
    },
    render(ctx: Context, template: string, data: Record<string, unknown> = {}, status = 200): void {
      ctx.status = status;
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = this.html(ctx, template, data);
    },
  };
}

export type Views = ReturnType<typeof createViews>;
