import type { Context } from 'koa';

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
