import type { Context } from 'koa';
import type { CallbackRequest } from './provider.js';

/** The fields a provider's answer has (RFC 6749 4.1.2, RFC 9207, Apple's `user`); nothing else is passed on. */
export const ANSWER_FIELDS = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'user'] as const;

/** A provider's answer as it reached a NetID route: its query, and the form it was posted with, if any (parsed by formParser). */
export function callbackRequestOf(ctx: Context): CallbackRequest {
  const body = ctx.method === 'POST' ? (ctx.request.body as Record<string, unknown> | undefined) : undefined;
  const form = body ? new URLSearchParams() : undefined;
  for (const name of ANSWER_FIELDS) {
    const value = body?.[name];
    if (typeof value === 'string') form!.set(name, value.slice(0, 8192));
  }
  return { method: form ? 'POST' : 'GET', query: new URLSearchParams(ctx.querystring), form };
}
