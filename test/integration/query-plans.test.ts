import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Database } from '../../src/db/database.js';
import type { PreparedStatement } from '../../src/db/prepared-statements.js';
import { lookupStatement } from '../../src/oidc/model-lookup.js';
import { writeBatchStatement } from '../../src/oidc/request-writes.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

/**
 * PostgreSQL plans a prepared statement once per connection and may keep that
 * plan while oidc_models grows from empty to millions of rows. Each hot
 * statement must therefore reach its rows by key in the plan made for an
 * empty, never-analysed table, not only once statistics say it is large.
 */
describe('hot statements on PostgreSQL, planned on an empty table', () => {
  let database: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    db = database.db;
  });

  afterAll(async () => {
    await database?.dispose();
  });

  async function genericPlan(statement: PreparedStatement, values: string[]): Promise<PlanNode[]> {
    return db.transaction(async (trx) => {
      await trx.raw('set local plan_cache_mode = force_generic_plan');
      await trx.raw(`prepare netid_plan_probe as ${statement.text}`);
      try {
        const result = await trx.raw(`explain (format json) execute netid_plan_probe(${values.join(', ')})`);
        return nodesOf((result.rows[0]['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan);
      } finally {
        await trx.raw('deallocate netid_plan_probe');
      }
    });
  }

  const onModels = (nodes: PlanNode[]) => nodes.filter((node) => node['Relation Name'] === 'oidc_models');

  /** How a scan reaches its rows: its index condition, or that of the bitmap index scan under it. */
  const keyCondition = (scan: PlanNode): string | undefined =>
    scan['Index Cond'] ?? scan.Plans?.find((child) => child['Node Type'] === 'Bitmap Index Scan')?.['Index Cond'];

  /** An index scan, or a bitmap heap scan over one: a list of keys may be planned either way. */
  const BY_INDEX = /^(Index (Only )?Scan|Bitmap Heap Scan)$/;

  test('a lookup of tokens reads each token, its grant and its session by key', async () => {
    const nodes = await genericPlan(lookupStatement(), ["'{AccessToken,ClientCredentials,AccessToken}'", "'{token-1,token-1,token-2}'"]);
    const scans = onModels(nodes);
    expect(scans.length).toBeGreaterThanOrEqual(3);
    for (const scan of scans) {
      expect(scan['Node Type']).toMatch(BY_INDEX);
      // Both key columns: model alone would walk every grant or session.
      expect(keyCondition(scan)).toMatch(/\bmodel\b/);
      expect(keyCondition(scan)).toMatch(/\b(id|uid)\b/);
    }
    expect(scans.filter((scan) => /\buid\b/.test(keyCondition(scan) ?? ''))).toHaveLength(1);
  });

  test("a token lookup with the person's claims reads the profile, the client, the membership and the account by key", async () => {
    const nodes = await genericPlan(lookupStatement(true), ["'{RefreshToken,RefreshToken}'", "'{token-1,token-2}'"]);
    expect(nodes.map((node) => node['Node Type'])).not.toContain('Seq Scan');
    const read = new Set(nodes.map((node) => node['Relation Name']).filter(Boolean));
    expect(read).toEqual(new Set(['oidc_models', 'profiles', 'clients', 'memberships', 'accounts']));
    for (const node of nodes.filter((node) => node['Relation Name'])) {
      expect(node['Node Type']).toMatch(BY_INDEX);
      expect(keyCondition(node)).toBeDefined();
    }
  });

  test('the write batch of several requests consumes each one row by key', async () => {
    const nodes = await genericPlan(writeBatchStatement(2), [
      "'v1.sealed-answer'",
      "'RefreshToken'",
      "'old-token-1'",
      "'v1.sealed-answer'",
      "'RefreshToken'",
      "'old-token-2'",
      "'{RefreshToken,AccessToken,RefreshToken}'",
      "'{new-refresh-1,new-access-1,new-refresh-2}'",
      `array['{}','{}','{}']::jsonb[]`,
      "'{grant-1,grant-1,grant-2}'",
      "'{NULL,NULL,NULL}'",
      "'{NULL,NULL,NULL}'",
      'array[now(), now(), now()]',
      "'{1,1,2}'",
    ]);
    expect(nodes.map((node) => node['Node Type'])).not.toContain('Seq Scan');
    const reads = onModels(nodes).filter((node) => node['Node Type'] !== 'ModifyTable');
    expect(reads).toHaveLength(2);
    for (const read of reads) {
      expect(read['Index Cond']).toMatch(/\bmodel\b/);
      expect(read['Index Cond']).toMatch(/\bid\b/);
    }
  });
});
