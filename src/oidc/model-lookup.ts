import type { AdapterPayload } from 'oidc-provider';
import { preparedStatement, type PreparedStatement, type StatementRunner } from '../db/prepared-statements.js';

export interface ModelRow {
  model: string;
  payload: AdapterPayload;
  consumed_at: Date | null;
  grant_id: string | null;
  /** The live Grant the row was issued under, read in the same statement. */
  grant_payload: AdapterPayload | null;
}

/** Lookups of one id under this many models at once get a statement of their own; more is never asked. */
const MAX_MODELS = 4;

export function lookupStatement(models: number): PreparedStatement {
  const placeholders = Array.from({ length: models }, () => '?').join(', ');
  return preparedStatement(
    `model_lookup_${models}`,
    // The grant by key in a subquery rather than a join: a plan made while the table held no
    // grants scanned every grant for each lookup once there were many.
    `select t.model, t.payload, t.consumed_at, t.grant_id,
            (select g.payload from oidc_models g
              where g.model = 'Grant' and g.id = t.grant_id and (g.expires_at is null or g.expires_at > now())) as grant_payload
       from oidc_models t
      where t.id = ? and t.model in (${placeholders}) and (t.expires_at is null or t.expires_at > now())`,
  );
}

const statements = Array.from({ length: MAX_MODELS + 1 }, (_, models) => (models ? lookupStatement(models) : undefined));

interface Waiting {
  model: string;
  resolve(row: ModelRow | undefined): void;
  reject(error: unknown): void;
}

/**
 * Reads rows of oidc_models by id, each with its grant. Lookups of one id
 * made in the same tick go out as one statement: introspection asks for a
 * token as an AccessToken and as ClientCredentials at once (a token value
 * says nothing of its kind), and many requests presenting one token at the
 * same moment share a read.
 */
export function createModelLookup(run: StatementRunner) {
  const pending = new Map<string, Waiting[]>();

  async function flush(id: string, waiting: Waiting[]): Promise<void> {
    const models = [...new Set(waiting.map((entry) => entry.model))];
    try {
      const rows: ModelRow[] = [];
      for (let start = 0; start < models.length; start += MAX_MODELS) {
        const chunk = models.slice(start, start + MAX_MODELS);
        rows.push(...(await run<ModelRow>(statements[chunk.length]!, [id, ...chunk])).rows);
      }
      for (const entry of waiting) entry.resolve(rows.find((row) => row.model === entry.model));
    } catch (error) {
      for (const entry of waiting) entry.reject(error);
    }
  }

  return function lookUp(model: string, id: string): Promise<ModelRow | undefined> {
    let waiting = pending.get(id);
    if (!waiting) {
      const batch: Waiting[] = [];
      waiting = batch;
      pending.set(id, batch);
      process.nextTick(() => {
        pending.delete(id);
        void flush(id, batch);
      });
    }
    const batch = waiting;
    return new Promise((resolve, reject) => batch.push({ model, resolve, reject }));
  };
}
