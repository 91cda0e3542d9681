import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';

/**
 * Parses the url-encoded forms of NetID's pages. Their fields are short, but a
 * person may paste something long into one: up to 64 kB the form comes back
 * with a message per field; past it, the body is not read and the person is
 * sent back to the form with a message (src/operations/http-errors.ts).
 */
export function formParser(): Middleware {
  return bodyParser({ enableTypes: ['form'], formLimit: '64kb' }) as Middleware;
}

/** A text field of a parsed form, cut to `maxLength`; anything else (absent, repeated, a file) reads as empty. */
export function formField(ctx: Context, name: string, maxLength = 1024): string {
  const value = (ctx.request.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.slice(0, maxLength) : '';
}

/** A checkbox: browsers send its value when it is ticked and nothing when it is not. */
export function formCheckbox(ctx: Context, name: string): boolean {
  const value = (ctx.request.body as Record<string, unknown> | undefined)?.[name];
  return value === 'on' || value === 'yes' || value === 'true';
}
