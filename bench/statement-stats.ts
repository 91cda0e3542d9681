import pg from 'pg';

/** The cluster setting that loads pg_stat_statements; it can only be set at server start. */
export const STATEMENT_STATS_SETTINGS = { shared_preload_libraries: "'pg_stat_statements'" };

async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'netid-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Starts counting from zero, so seeding and start-up do not show. */
export async function resetStatementStats(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, async (client) => {
    await client.query('create extension if not exists pg_stat_statements');
    await client.query('select pg_stat_statements_reset()');
  });
}

/** The statements PostgreSQL spent the most time executing since the reset, as lines to print. */
export async function statementStatsReport(databaseUrl: string, limit = 12): Promise<string> {
  const rows = await withClient(databaseUrl, async (client) => {
    const result = await client.query<{ calls: string; total_ms: number; mean_ms: number; blocks: string; query: string }>(
      `select calls, total_exec_time as total_ms, mean_exec_time as mean_ms,
              (shared_blks_hit + shared_blks_read) / greatest(calls, 1) as blocks,
              regexp_replace(query, '\\s+', ' ', 'g') as query
         from pg_stat_statements
        where dbid = (select oid from pg_database where datname = current_database())
        order by total_exec_time desc
        limit $1`,
      [limit],
    );
    return result.rows;
  });
  const lines = rows.map(
    (row) =>
      `${row.calls.padStart(9)} ${row.total_ms.toFixed(0).padStart(9)} ${row.mean_ms.toFixed(3).padStart(8)} ${row.blocks.padStart(7)}  ${row.query.slice(0, 100)}`,
  );
  return [`    calls  total ms  mean ms  blocks  statement (executor time only; blocks read per call)`, ...lines].join('\n');
}
