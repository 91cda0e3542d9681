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

/** As read: the payloads as JSON text, parsed for each request that asked (toModelRow). */
type LookupRow = Omit<ModelRow, 'claims' | 'payload' | 'grant_payload' | 'session_payload'> &
  Partial<ClaimsRow> & {
    model_id: string;
    payload: string;
    grant_payload: string | null;
    session_payload: string | null;
    client_account_id?: string | null;
  };

/** At most this many lookups in one statement; more waiting go in the next. */
const MAX_LOOKUPS = 64;

/**
 * Rows by model and id, the pairs given as two arrays. With claims, the
 * token's profile and its membership in the account of the client the
 * token was issued to come along: refresh, code exchange and userinfo read
 * the token and then the person, and this makes it one round trip. Every
 * row is reached by key (test/integration/query-plans.test.ts).
 */
export function lookupStatement(withClaims = false): PreparedStatement {
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
    `model_lookup_${withClaims ? 'claims' : 'plain'}`,
    // The grant by key in a subquery rather than a join: a plan made while the table held no
    // grants scanned every grant for each lookup once there were many. The session likewise, for
    // a token bound to it: oidc-provider checks that it still holds before it accepts the token
    // (lib/models/token_helpers.js), a round trip of its own on every introspection and userinfo.
    // Each asked pair is read by key in a lateral subquery; a list of ids and models to match
    // against instead was planned, on an empty table, as a walk over every row of those models.
    // The payloads come as text: requests presenting the same token share the row, and each
    // parses its own objects from it, as oidc-provider may change what it is given.
    `select t.model, t.id as model_id, t.payload::text as payload, t.consumed_at, t.grant_id,
            (select g.payload::text from oidc_models g
              where g.model = 'Grant' and g.id = t.grant_id and (g.expires_at is null or g.expires_at > now())) as grant_payload,
            (select s.payload::text from oidc_models s
              where t.payload->'expiresWithSession' = 'true'::jsonb
                and s.model = 'Session' and s.uid = t.payload->>'sessionUid' and (s.expires_at is null or s.expires_at > now())
              limit 1) as session_payload
            ${withClaims ? ', c.*' : ''}
       from unnest(?::text[], ?::text[]) as asked(model, id)
       cross join lateral (
         select r.model, r.id, r.payload, r.consumed_at, r.grant_id from oidc_models r
          where r.model = asked.model and r.id = asked.id and (r.expires_at is null or r.expires_at > now())
          limit 1
       ) t
       ${claims}`,
  );
}

const statements = { plain: lookupStatement(), withClaims: lookupStatement(true) };

function toModelRow(row: LookupRow, withClaims: boolean): ModelRow {
  const parse = (json: string | null) => (json === null ? null : (JSON.parse(json) as AdapterPayload));
  const modelRow: ModelRow = {
    model: row.model,
    payload: parse(row.payload)!,
    consumed_at: row.consumed_at,
    grant_id: row.grant_id,
    grant_payload: parse(row.grant_payload),
    session_payload: parse(row.session_payload),
  };
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
  id: string;
  resolve(row: ModelRow | undefined): void;
  reject(error: unknown): void;
}

/** The uid of the session a token expires with, whose row the lookup read along with it. */
export function boundSessionUid(row: ModelRow): string | undefined {
  const { expiresWithSession, sessionUid } = row.payload;
  return expiresWithSession === true && typeof sessionUid === 'string' ? sessionUid : undefined;
}

/**
 * Reads rows of oidc_models by id, each with its grant (and session). The
 * lookups asked while the event loop handles one round of I/O go out as one
 * statement: under load many requests reach their token lookup in the same
 * round, and one round trip for all of them costs NetID and PostgreSQL far
 * less than one each. Introspection asks for a token as an AccessToken and
 * as ClientCredentials at once (a token value says nothing of its kind),
 * which is the same statement too.
 */
export function createModelLookup(run: StatementRunner) {
  const pending = { plain: [] as Waiting[], withClaims: [] as Waiting[] };

  async function flush(withClaims: boolean, waiting: Waiting[]): Promise<void> {
    const keyOf = (model: string, id: string) => `${model}\u0000${id}`;
    try {
      const asked = [...new Map(waiting.map((entry) => [keyOf(entry.model, entry.id), entry])).values()];
      const models = asked.map((entry) => entry.model);
      const ids = asked.map((entry) => entry.id);
      const result = await run<LookupRow>(withClaims ? statements.withClaims : statements.plain, [models, ids]);
      const rows = new Map(result.rows.map((row) => [keyOf(row.model, row.model_id), row]));
      for (const entry of waiting) {
        const row = rows.get(keyOf(entry.model, entry.id));
        entry.resolve(row && toModelRow(row, withClaims));
      }
    } catch (error) {
      for (const entry of waiting) entry.reject(error);
    }
  }

  function flushAll(withClaims: boolean): void {
    const kind = withClaims ? 'withClaims' : 'plain';
    const waiting = pending[kind];
    pending[kind] = [];
    for (let start = 0; start < waiting.length; start += MAX_LOOKUPS) void flush(withClaims, waiting.slice(start, start + MAX_LOOKUPS));
  }

  return function lookUp(model: string, id: string, withClaims = false): Promise<ModelRow | undefined> {
    const kind = withClaims ? 'withClaims' : 'plain';
    // After the I/O callbacks of this round, each of which may bring a request to its lookup.
    if (!pending[kind].length) setImmediate(flushAll, withClaims);
    return new Promise((resolve, reject) => pending[kind].push({ model, id, resolve, reject }));
  };
}
