import type { AdapterPayload } from 'oidc-provider';
import { CLAIMS_COLUMNS, claimsSourceFrom, uuidOrNull, type ClaimsRow, type ClaimsSource } from '../db/claims-source.js';
import { preparedStatement, type PreparedStatement, type StatementRunner } from '../db/prepared-statements.js';

export interface ModelRow {
  model: string;
  payload: AdapterPayload;
  consumed_at: Date | null;
  grant_id: string | null;
  /** The live Grant the row was issued under, read in the same statement. */
  grant_payload: AdapterPayload | null;
  /** For a token that expires with its session: that live Session, read in the same statement. */
  session_payload: AdapterPayload | null;
  /** Asked with claims: what the token's person and client account give, null when the profile is gone. */
  claims?: { source: ClaimsSource | null; accountId: string | null };
}

type LookupRow = Omit<ModelRow, 'claims'> & Partial<ClaimsRow> & { client_account_id?: string | null };

/** Lookups of one id under this many models at once get a statement of their own; more is never asked. */
const MAX_MODELS = 4;

/**
 * With claims, the token's profile and its membership in the account of the
 * client the token was issued to come along: refresh, code exchange and
 * userinfo read the token and then the person, and this makes it one round
 * trip. Every row is reached by key (test/integration/query-plans.test.ts).
 */
export function lookupStatement(models: number, withClaims = false): PreparedStatement {
  const placeholders = Array.from({ length: models }, () => '?').join(', ');
  const claims = withClaims
    ? `left join lateral (
         select ${CLAIMS_COLUMNS}, cl.account_id as client_account_id
           from profiles p
           left join clients cl on cl.client_id = t.payload->>'clientId'
           left join memberships m on m.profile_id = p.id and m.account_id = cl.account_id
           left join accounts a on a.id = m.account_id
          where p.id = ${uuidOrNull("t.payload->>'accountId'")}
       ) c on true`
    : '';
  return preparedStatement(
    `model_lookup_${withClaims ? 'claims_' : ''}${models}`,
    // The grant by key in a subquery rather than a join: a plan made while the table held no
    // grants scanned every grant for each lookup once there were many. The session likewise, for
    // a token bound to it: oidc-provider checks that it still holds before it accepts the token
    // (lib/models/token_helpers.js), a round trip of its own on every introspection and userinfo.
    `select t.model, t.payload, t.consumed_at, t.grant_id,
            (select g.payload from oidc_models g
              where g.model = 'Grant' and g.id = t.grant_id and (g.expires_at is null or g.expires_at > now())) as grant_payload,
            (select s.payload from oidc_models s
              where t.payload->'expiresWithSession' = 'true'::jsonb
                and s.model = 'Session' and s.uid = t.payload->>'sessionUid' and (s.expires_at is null or s.expires_at > now())
              limit 1) as session_payload
            ${withClaims ? ', c.*' : ''}
       from oidc_models t
       ${claims}
      where t.id = ? and t.model in (${placeholders}) and (t.expires_at is null or t.expires_at > now())`,
  );
}

const statements = {
  plain: Array.from({ length: MAX_MODELS + 1 }, (_, models) => (models ? lookupStatement(models) : undefined)),
  withClaims: Array.from({ length: MAX_MODELS + 1 }, (_, models) => (models ? lookupStatement(models, true) : undefined)),
};

function toModelRow(row: LookupRow, withClaims: boolean): ModelRow {
  const { model, payload, consumed_at, grant_id, grant_payload, session_payload } = row;
  const modelRow: ModelRow = { model, payload, consumed_at, grant_id, grant_payload, session_payload };
  if (withClaims) {
    modelRow.claims = {
      source: row.id ? claimsSourceFrom(row as ClaimsRow) : null,
      accountId: row.client_account_id ?? null,
    };
  }
  return modelRow;
}

interface Waiting {
  model: string;
  resolve(row: ModelRow | undefined): void;
  reject(error: unknown): void;
}

/** The uid of the session a token expires with, whose row the lookup read along with it. */
export function boundSessionUid(row: ModelRow): string | undefined {
  const { expiresWithSession, sessionUid } = row.payload;
  return expiresWithSession === true && typeof sessionUid === 'string' ? sessionUid : undefined;
}

/**
 * Reads rows of oidc_models by id, each with its grant (and session). Lookups of one id
 * made in the same tick go out as one statement: introspection asks for a
 * token as an AccessToken and as ClientCredentials at once (a token value
 * says nothing of its kind), and many requests presenting one token at the
 * same moment share a read.
 */
export function createModelLookup(run: StatementRunner) {
  const pending = new Map<string, Waiting[]>();

  async function flush(id: string, withClaims: boolean, waiting: Waiting[]): Promise<void> {
    const models = [...new Set(waiting.map((entry) => entry.model))];
    const variants = withClaims ? statements.withClaims : statements.plain;
    try {
      const rows: ModelRow[] = [];
      for (let start = 0; start < models.length; start += MAX_MODELS) {
        const chunk = models.slice(start, start + MAX_MODELS);
        const result = await run<LookupRow>(variants[chunk.length]!, [id, ...chunk]);
        rows.push(...result.rows.map((row) => toModelRow(row, withClaims)));
      }
      for (const entry of waiting) entry.resolve(rows.find((row) => row.model === entry.model));
    } catch (error) {
      for (const entry of waiting) entry.reject(error);
    }
  }

  return function lookUp(model: string, id: string, withClaims = false): Promise<ModelRow | undefined> {
    const key = `${withClaims ? 'claims' : 'plain'}:${id}`;
    let waiting = pending.get(key);
    if (!waiting) {
      const batch: Waiting[] = [];
      waiting = batch;
      pending.set(key, batch);
      process.nextTick(() => {
        pending.delete(key);
        void flush(id, withClaims, batch);
      });
    }
    const batch = waiting;
    return new Promise((resolve, reject) => batch.push({ model, resolve, reject }));
  };
}
