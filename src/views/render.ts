import path from 'node:path';
import { Eta } from 'eta';
import type { Context } from 'koa';
import { projectRoot } from '../config/project-root.js';
import { DEFAULT_LOCALE, isMessageKey, SUPPORTED_LOCALES, translator, type MessageKey } from '../i18n/messages.js';

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

export function createViews(directory = VIEWS_DIRECTORY) {
  // autoEscape: every `<%= %>` is HTML-escaped; templates never build markup from strings.
  const eta = new Eta({ views: directory, cache: true, autoEscape: true, autoTrim: false });

  return {
    html(ctx: Context, template: string, data: Record<string, unknown> = {}): string {
      const locale = localeOf(ctx);
      return eta.render(template, { problem: problemOf(ctx), ...data, locale, t: translator(locale) });
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
