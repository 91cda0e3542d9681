import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from './database.js';

/**
 * A statement run on every request (token lookups, client metadata). On
 * PostgreSQL it is a named prepared statement: each pooled connection parses
 * and plans it once instead of on every call, which measured about two
 * thirds of PostgreSQL's CPU per lookup, and it skips knex's query builder,
 * which cost as much as the lookup itself. Written with `?` placeholders, as
 * knex wants; columns always named, since a prepared `select *` fails once a
 * migration adds a column under a running instance.
 */
export interface PreparedStatement {
  name: string;
  /** With `?` placeholders, for knex (the embedded PGlite database). */
  sql: string;
  /** With `$1, $2, ...`, for the pg driver. */
  text: string;
}

export function preparedStatement(name: string, sql: string): PreparedStatement {
  let position = 0;
  // The statements are ours and never hold a `?` inside a literal or a jsonb operator.
  const text = sql.replace(/\?/g, () => `$${++position}`);
  // The text's hash in the name: behind PgBouncer two versions of NetID during a rolling
  // deploy may meet on one server connection, and one name must never mean two statements.
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 10);
  return { name: `netid_${name}_${digest}`, sql, text };
}

export interface StatementResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** What the pg driver's client offers; knex hands these out from its pool. */
interface PgConnection {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

interface PoolingClient {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<unknown>;
}

export type StatementRunner = <Row>(statement: PreparedStatement, values: unknown[]) => Promise<StatementResult<Row>>;

/**
 * PgBouncer before 1.21 in transaction mode hands each transaction a different
 * server connection, so a statement prepared on one is missing on the next
 * (26000) or already there under a client that never prepared it (42P05).
 * Neither ran the statement, so it is sent again unnamed, as every statement
 * from then on: slower, never wrong.
 */
const PREPARED_STATEMENTS_UNAVAILABLE = new Set(['26000', '42P05']);

/** Pools found to be behind such a PgBouncer: all their connections go through it, or none does. */
const unnamedOnly = new WeakSet<object>();

/** PostgreSQL through the pg driver, as opposed to the embedded PGlite database. */
export function usesPgDriver(db: Database): boolean {
  return (db.client as Knex.Client).config.client === 'pg';
}

/** Runs prepared statements on the database's own pool, so they count against the same connection budget. */
export function createStatementRunner(db: Database): StatementRunner {
  if (!usesPgDriver(db)) {
    return async <Row>(statement: PreparedStatement, values: unknown[]) => {
      const result = await db.raw(statement.sql, values as Knex.RawBinding[]);
      return { rows: (result.rows ?? []) as Row[], rowCount: Number(result.rowCount ?? result.affectedRows ?? 0) };
    };
  }
  const pool = db.client as unknown as PoolingClient;
  return async <Row>(statement: PreparedStatement, values: unknown[]) => {
    const connection = await pool.acquireConnection();
    try {
      let result;
      if (!unnamedOnly.has(pool)) {
        try {
          result = await connection.query({ name: statement.name, text: statement.text, values });
        } catch (error) {
          if (!PREPARED_STATEMENTS_UNAVAILABLE.has((error as { code?: string }).code ?? '')) throw error;
          unnamedOnly.add(pool);
        }
      }
      result ??= await connection.query({ text: statement.text, values });
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    } finally {
      await pool.releaseConnection(connection);
    }
  };
}
