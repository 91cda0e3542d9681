import path from 'node:path';
import { Eta } from 'eta';
import type { Context } from 'koa';
import { projectRoot } from '../config/project-root.js';
import { DEFAULT_LOCALE, formatWait, SUPPORTED_LOCALES, translator } from '../i18n/messages.js';

export const VIEWS_DIRECTORY = path.join(projectRoot(), 'views');

/** Picks the page language from Accept-Language among the catalogues NetID has. */
export function localeOf(ctx: Context): string {
  const chosen = ctx.acceptsLanguages(SUPPORTED_LOCALES);
  return typeof chosen === 'string' ? chosen : DEFAULT_LOCALE;
}

export function createViews(directory = VIEWS_DIRECTORY) {
  // autoEscape: every `<%= %>` is HTML-escaped; templates never build markup from strings.
  const eta = new Eta({ views: directory, cache: true, autoEscape: true, autoTrim: false });

  return {
    html(ctx: Context, template: string, data: Record<string, unknown> = {}): string {
      const locale = localeOf(ctx);
      const t = translator(locale);
      return eta.render(template, { ...data, locale, t, wait: (seconds: number) => formatWait(t, seconds) });
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
