import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/database.js';
import type { ClientKind } from '../oidc/client-kind.js';

export type SignInOutcome = 'success' | 'wrong_password' | 'throttled' | 'locked' | 'blocked' | 'second_factor';
/** How a completed sign-in began: its first factor. */
export type SignInMethod = 'password' | 'passkey' | 'federated';
const SIGN_IN_METHODS: SignInMethod[] = ['password', 'passkey', 'federated'];
/** Which limit refused an attempt (src/security/rate-limits.ts and the limits built on it). */
export type RateLimitName =
  | 'sign_in_delay'
  | 'sign_in_lock'
  | 'sign_in_address'
  | 'code_send'
  | 'recovery_request'
  | 'sign_up'
  | 'account_create'
  | 'current_password'
  | 'social_login'
  | 'second_factor';
export type CodeOutcome = 'issued' | 'refused' | 'accepted' | 'wrong' | 'expired' | 'exhausted';

const SIGN_IN_OUTCOMES: SignInOutcome[] = ['success', 'wrong_password', 'throttled', 'locked', 'blocked', 'second_factor'];
const RATE_LIMITS: RateLimitName[] = [
  'sign_in_delay',
  'sign_in_lock',
  'sign_in_address',
  'code_send',
  'recovery_request',
  'sign_up',
  'account_create',
  'current_password',
  'social_login',
  'second_factor',
];

/**
 * What NetID counts for an operator to alert on, in one registry per NetID
 * (not prom-client's global one, so two instances in one test process keep
 * their own counts). Counting is an increment in memory: nothing here touches
 * the database on a request; the outbox and pool gauges are read at scrape time.
 */
export function createMetrics() {
  const registry = new Registry();
  const registers = [registry];

  const metrics = {
    registry,
    requestDuration: new Histogram({
      name: 'netid_http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status class',
      labelNames: ['method', 'route', 'status_class'] as const,
      // The token endpoint answers in milliseconds; a sign-in spends ~50 ms in argon2 alone.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    tokensIssued: new Counter({
      name: 'netid_tokens_issued_total',
      help: 'Successful token endpoint responses, by grant type and kind of client (account, first_party, third_party)',
      labelNames: ['grant_type', 'client_kind'] as const,
      registers,
    }),
    signIns: new Counter({
      name: 'netid_sign_ins_total',
      help: 'Password sign-in attempts by outcome; second_factor counts wrong authenticator and recovery codes',
      labelNames: ['outcome'] as const,
      registers,
    }),
    signInsCompleted: new Counter({
      name: 'netid_sign_ins_completed_total',
      help: 'Sign-ins handed to the relying party with every step passed, by first factor (password, passkey, federated) and number of factors (1, 2); step-ups not included',
      labelNames: ['method', 'factors'] as const,
      registers,
    }),
    rateLimitRefusals: new Counter({
      name: 'netid_rate_limit_refusals_total',
      help: 'Attempts refused by a rate limit, by limit',
      labelNames: ['limit'] as const,
      registers,
    }),
    oneTimeCodes: new Counter({
      name: 'netid_one_time_codes_total',
      help: 'One-time codes issued or refused (too soon, hourly cap), and codes typed: accepted, wrong, expired, exhausted; by purpose',
      labelNames: ['purpose', 'outcome'] as const,
      registers,
    }),
    backchannelLogoutFailures: new Counter({
      name: 'netid_backchannel_logout_failures_total',
      help: 'Logout tokens a client did not accept or could not be reached for',
      registers,
    }),
    /** Process metrics (CPU, memory, event-loop lag, GC) under prom-client's standard names; once per process. */
    collectProcessMetrics() {
      collectDefaultMetrics({ register: registry });
    },
    /** The outbox and connection pool gauges, read from this database when scraped. */
    watchDatabase(db: Database) {
      new Gauge({
        name: 'netid_outbox_pending_messages',
        help: 'Emails and SMS waiting to be delivered',
        registers,
        async collect() {
          this.set((await outboxBacklog(db)).pending);
        },
      });
      new Gauge({
        name: 'netid_outbox_oldest_pending_age_seconds',
        help: 'Age of the oldest message not yet delivered (0 when none waits)',
        registers,
        async collect() {
          this.set((await outboxBacklog(db)).oldestAgeSeconds);
        },
      });
      new Gauge({
        name: 'netid_db_pool_connections',
        help: 'Database connections of this instance: in use, idle, and requests waiting for one (the embedded database has one)',
        labelNames: ['state'] as const,
        registers,
        collect() {
          const pool = poolOf(db);
          if (!pool) return;
          this.set({ state: 'used' }, pool.numUsed());
          this.set({ state: 'idle' }, pool.numFree());
          this.set({ state: 'waiting' }, pool.numPendingAcquires());
        },
      });
    },
  };
  // Zero from the start, so a rate() over an outcome that has not happened yet is 0 rather than absent.
  for (const outcome of SIGN_IN_OUTCOMES) metrics.signIns.inc({ outcome }, 0);
  for (const method of SIGN_IN_METHODS) for (const factors of ['1', '2']) metrics.signInsCompleted.inc({ method, factors }, 0);
  for (const limit of RATE_LIMITS) metrics.rateLimitRefusals.inc({ limit }, 0);
  metrics.backchannelLogoutFailures.inc(0);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/** knex's tarn pool: on PostgreSQL up to DATABASE_POOL_MAX connections, on PGlite its one. */
interface ConnectionPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

function poolOf(db: Database): ConnectionPool | undefined {
  const pool = (db.client as { pool?: Partial<ConnectionPool> }).pool;
  return typeof pool?.numUsed === 'function' ? (pool as ConnectionPool) : undefined;
}

/**
 * One statement for both outbox gauges, shared by the two collectors of one
 * scrape: the partial index on pending rows answers it.
 */
const backlogReads = new WeakMap<Database, Promise<{ pending: number; oldestAgeSeconds: number }>>();
function outboxBacklog(db: Database): Promise<{ pending: number; oldestAgeSeconds: number }> {
  let read = backlogReads.get(db);
  if (!read) {
    read = db
      .raw("select count(*) as pending, min(created_at) as oldest from outbox where state = 'pending'")
      .then((result: { rows: { pending: string | number; oldest: Date | string | null }[] }) => {
        const row = result.rows[0]!;
        const oldest = row.oldest ? new Date(row.oldest).getTime() : undefined;
        return { pending: Number(row.pending), oldestAgeSeconds: oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000) };
      })
      // A scrape while the database is away still shows everything else.
      .catch(() => ({ pending: Number.NaN, oldestAgeSeconds: Number.NaN }))
      .finally(() => backlogReads.delete(db));
    backlogReads.set(db, read);
  }
  return read;
}
