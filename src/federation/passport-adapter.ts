import { Readable } from 'node:stream';
import type { Checks } from './provider.js';

/**
 * The request a passport strategy sees: the parts of an express request the
 * strategies NetID uses read (method, URL, query, a parsed form and the same
 * form as a stream, headers), and `session`, where they keep their state,
 * PKCE verifier and nonce between the redirect and the callback. NetID has no
 * server session for this: `session` is the `Checks` it keeps sealed in the
 * database, filled before a callback and read after a redirect.
 */
export interface StrategyRequest extends Readable {
  method: 'GET' | 'POST';
  url: string;
  originalUrl: string;
  protocol: string;
  host: string;
  headers: Record<string, string>;
  headersDistinct: Record<string, string[]>;
  query: Record<string, string>;
  body: Record<string, string> | undefined;
  session: Checks;
  /** The state NetID chose for this round trip, for the strategies that let NetID set it. */
  netidState: string | undefined;
  get(name: string): string | undefined;
}

export function strategyRequest(input: {
  url: URL;
  method?: 'GET' | 'POST';
  form?: URLSearchParams | undefined;
  session?: Checks;
  state?: string;
}): StrategyRequest {
  const method = input.method ?? 'GET';
  const body = input.form?.toString();
  const headers: Record<string, string> = { host: input.url.host, ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) };
  const path = `${input.url.pathname}${input.url.search}`;
  return Object.assign(Readable.from(body !== undefined ? [Buffer.from(body)] : []), {
    method,
    url: path,
    originalUrl: path,
    protocol: input.url.protocol.slice(0, -1),
    host: input.url.host,
    headers,
    headersDistinct: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    query: Object.fromEntries(input.url.searchParams),
    body: input.form ? Object.fromEntries(input.form) : undefined,
    session: input.session ?? {},
    netidState: input.state,
    get: (name: string) => headers[name.toLowerCase()],
  });
}

/** How a strategy's `authenticate` ended, as passport's augmented methods report it. */
export type StrategyOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'success'; user: unknown }
  | { kind: 'fail'; info: unknown }
  | { kind: 'error'; error: unknown };

/** The part of a passport strategy NetID calls. */
export interface PassportStrategy {
  authenticate(this: unknown, request: never, options?: object): unknown;
}

/** An upstream provider that keeps NetID waiting longer than this is taken as down. */
const STRATEGY_TIMEOUT_MS = 15_000;

/**
 * Runs one `authenticate` of a passport strategy as a promise, the way
 * passport itself does (an object made from the strategy, given `redirect`,
 * `success`, `fail`, `error` and `pass`), without passport's session or
 * middleware: NetID keeps no login session in passport and decides itself
 * what a sign-in leads to.
 */
export function authenticate(strategy: PassportStrategy, request: StrategyRequest, options: object = {}): Promise<StrategyOutcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'error', error: new Error('the provider did not answer in time') }), STRATEGY_TIMEOUT_MS);
    const settle = (outcome: StrategyOutcome) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    const attempt = Object.assign(Object.create(strategy) as PassportStrategy, {
      redirect: (url: string) => settle({ kind: 'redirect', url }),
      success: (user: unknown) => settle({ kind: 'success', user }),
      fail: (info: unknown) => settle({ kind: 'fail', info }),
      error: (error: unknown) => settle({ kind: 'error', error }),
      pass: () => settle({ kind: 'error', error: new Error('the strategy did not handle the request') }),
    });
    try {
      attempt.authenticate(request as never, options);
    } catch (error) {
      settle({ kind: 'error', error });
    }
  });
}
