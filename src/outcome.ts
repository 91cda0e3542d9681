import type { MessageKey } from './i18n/messages.js';

/**
 * What every rule answers, whoever asked (a page, the command line, the
 * management API): what it did, or the one problem that stopped it. A problem
 * is a name from its feature's table, which says the HTTP status and the
 * message a person reads; `fields` names what was wrong with which input.
 */
export type Outcome<T extends object, P extends string> = ({ ok: true } & T) | Refusal<P>;

export interface Refusal<P extends string> {
  ok: false;
  problem: P;
  /** The message for each input that was wrong, when the problem is the input. */
  fields?: Partial<Record<string, MessageKey>>;
  /** How long to wait before trying again, for a problem that passes. */
  retryAfterSeconds?: number;
  /** What exactly was wrong, in words for the developer of a client or an operator (never shown on NetID's own pages). */
  detail?: string;
  /** The input `detail` is about, as the API and the command line name it. */
  field?: string;
}

export function ok(): { ok: true };
export function ok<T extends object>(value: T): { ok: true } & T;
export function ok<T extends object>(value?: T) {
  return { ok: true as const, ...value };
}

export function refuse<P extends string>(problem: P, extra: Omit<Refusal<P>, 'ok' | 'problem'> = {}): Refusal<P> {
  return { ok: false, problem, ...extra };
}

/** How a problem is told: its HTTP status, and the message a person reads. */
export interface ProblemDescription {
  status: number;
  messageKey: MessageKey;
}

export type ProblemTable<P extends string> = Record<P, ProblemDescription>;
