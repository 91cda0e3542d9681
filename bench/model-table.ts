import pg from 'pg';

export interface ModelTableSize {
  rows: number;
  /** Rows past their expiry that the cleanup job has not deleted yet. */
  expired: number;
  /** Rows per oidc-provider model (Session, Grant, AccessToken, ...). */
  byModel: Record<string, number>;
}

/** oidc_models as the benchmark reports it, read over a connection of its own. */
export async function modelTableSize(databaseUrl: string): Promise<ModelTableSize> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'netid-bench' });
  await client.connect();
  try {
    const { rows } = await client.query<{ model: string; rows: string; expired: string }>(
      `select model, count(*) as rows, count(*) filter (where expires_at < now()) as expired
         from oidc_models group by model order by model`,
    );
    return {
      rows: rows.reduce((sum, row) => sum + Number(row.rows), 0),
      expired: rows.reduce((sum, row) => sum + Number(row.expired), 0),
      byModel: Object.fromEntries(rows.map((row) => [row.model, Number(row.rows)])),
    };
  } finally {
    await client.end();
  }
}

/** A fresh, empty database on the benchmark's cluster. */
export async function createBenchDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl, application_name: 'netid-bench' });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
