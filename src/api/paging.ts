import type { Context } from 'koa';
import { z } from 'zod';
import type { Page } from '../db/profiles.js';
import { ApiProblem } from './problems.js';

/** What the ids of lists look like, for decodeCursor. */
export const UUID_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const INTEGER_KEY = /^[0-9]{1,18}$/;

/** The most items one page holds. */
export const MAX_PAGE = 100;

/** `limit` and `cursor`, as every list takes them. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(20).meta({ description: `Items per page, at most ${MAX_PAGE}` }),
  cursor: z.string().max(200).optional().meta({ description: 'Where the page starts: the `next` of the page before' }),
};

/**
 * A cursor is the position of the last item of the page before, in the list's
 * stable order (an id), so items added meanwhile neither repeat nor push
 * others out of the next page. It is opaque to clients; `key` is what the
 * list's ids look like, so a cursor a client made up is refused here rather
 * than compared with ids of another type in the database.
 */
export function decodeCursor(cursor: string | undefined, key: RegExp = /^/): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof position.after === 'string' && position.after.length <= 200 && key.test(position.after)) return position.after;
  } catch {
    // Answered below, as any cursor NetID did not make.
  }
  throw new ApiProblem('invalid-request', { errors: [{ pointer: 'cursor', detail: 'is not a cursor this API gave' }] });
}

export const encodeCursor = (after: string) => Buffer.from(JSON.stringify({ after })).toString('base64url');

/**
 * The page as the API answers it: its items and the cursor of the next page,
 * which the Link header (RFC 8288) gives as a ready address too.
 */
export function pageAnswer<T, V>(ctx: Context, issuer: string, page: Page<T>, view: (item: T) => V): { items: V[]; next: string | null } {
  const next = page.next === undefined ? null : encodeCursor(page.next);
  if (next) {
    const url = new URL(`${issuer}${ctx.path}`);
    for (const [name, value] of Object.entries(ctx.query)) if (name !== 'cursor' && typeof value === 'string') url.searchParams.set(name, value);
    url.searchParams.set('cursor', next);
    ctx.set('Link', `<${url.toString()}>; rel="next"`);
  }
  return { items: page.items.map(view), next };
}
