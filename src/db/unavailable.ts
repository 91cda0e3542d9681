/**
 * Whether an error means the database cannot be reached right now, as
 * opposed to a fault in NetID or in a statement: the answer is then "try
 * again shortly" (503), not a server error. Socket errors are taken only as
 * thrown, never from an error's cause: an outgoing request that failed
 * (a client's jwks_uri) carries them there and is not the database.
 */

/** A connection that could not be made, or broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** PostgreSQL: shutting down or starting (57P01–57P03), out of connection slots (53300). Class 08 is checked apart. */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

const MESSAGES = [
  // pg, when the server or the network closes a connection.
  /^Connection terminated\b/,
  // pg, when opening a connection takes longer than its connectionTimeoutMillis (src/db/database.ts).
  /^timeout expired$/,
  // pg, asked to query on a connection that broke earlier.
  /^Client has encountered a connection error and is not queryable/,
  // PGlite, once closed (as at shutdown) or closing.
  /^PGlite is clos(ed|ing)\b/,
];

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  errors?: unknown;
}

// Read by shape, not instanceof: errors from Node's sockets may come from another realm (a test runner's sandbox).
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, message, code, errors } = error as ErrorLike;
  // Connecting to a name with several addresses fails with every attempt's error together.
  if (name === 'AggregateError' && Array.isArray(errors) && errors.some(isDatabaseUnavailable)) return true;
  // knex, when no pooled connection comes free in time: the pool is full of ones that hang.
  if (name === 'KnexTimeoutError') return true;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  return typeof message === 'string' && MESSAGES.some((pattern) => pattern.test(message));
}
