import type { Context, Middleware } from 'koa';
import { isBrowserEndpoint } from '../oidc/endpoints.js';
import { BodyTooLarge, PROTOCOL_BODY_LIMIT, readBody, withBody } from '../oidc/request-body.js';
import type { MessageKey } from '../i18n/messages.js';
import type { Views } from '../views/render.js';
import { carriesControlCharacters } from './control-characters.js';

export interface InputGuardOptions {
  views: Views;
  isOwnPage(path: string): boolean;
}

/** Where `refuse` found the problem, for the error it answers with. */
type Refusal = { status: 400 | 413; description: string; messageKey: MessageKey };

const CONTROL_IN_ADDRESS: Refusal = {
  status: 400,
  description: 'the request URL contains control characters',
  messageKey: 'error.bad_address',
};
const CONTROL_IN_BODY: Refusal = {
  status: 400,
  description: 'a parameter contains control characters',
  messageKey: 'error.oauth',
};
const BODY_TOO_LARGE: Refusal = { status: 413, description: 'the request body is too large', messageKey: 'error.oauth' };

/**
 * Bad bytes stop here, before any route or query sees them: a control
 * character anywhere in the address, and in the body of a request for
 * oidc-provider's endpoints (whose parameters go straight into lookups and
 * stored payloads). The body is read once and handed on (`withBody`), and kept
 * in `ctx.state.protocolBody` for NetID's own handling of those requests. The
 * forms of NetID's own pages are read by their routes, whose validation
 * re-renders the form with a message.
 */
export function inputGuard(options: InputGuardOptions): Middleware {
  function refuse(ctx: Context, refusal: Refusal): void {
    ctx.set('Cache-Control', 'no-store');
    if (options.isOwnPage(ctx.path) || isBrowserEndpoint(ctx.path)) {
      const protocol = !options.isOwnPage(ctx.path);
      options.views.render(
        ctx,
        'error',
        protocol ? { messageKey: refusal.messageKey, code: 'invalid_request', description: refusal.description } : { messageKey: refusal.messageKey },
        refusal.status,
      );
      return;
    }
    ctx.status = refusal.status;
    ctx.body = { error: 'invalid_request', error_description: refusal.description };
  }

  return async (ctx, next) => {
    if (carriesControlCharacters(ctx.req.url ?? '')) return refuse(ctx, CONTROL_IN_ADDRESS);
    if (ctx.method === 'POST' && !options.isOwnPage(ctx.path) && ctx.is('application/x-www-form-urlencoded')) {
      let body: Buffer;
      try {
        body = await readBody(ctx.req, PROTOCOL_BODY_LIMIT);
      } catch (error) {
        if (error instanceof BodyTooLarge) {
          ctx.set('Connection', 'close');
          return refuse(ctx, BODY_TOO_LARGE);
        }
        throw error;
      }
      if (carriesControlCharacters(body.toString('latin1'))) return refuse(ctx, CONTROL_IN_BODY);
      ctx.state.protocolBody = body;
      ctx.req = withBody(ctx.req, body);
    }
    return next();
  };
}
