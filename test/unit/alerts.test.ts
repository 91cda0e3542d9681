import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import type { Database } from '../../src/db/database.js';
import { createMetrics } from '../../src/operations/metrics.js';

const RULES = path.resolve(import.meta.dirname, '../../ops/alerts.yml');

describe('the sample alerting rules (ops/alerts.yml)', () => {
  test('name only series NetID exposes, so a renamed metric cannot silence an alert', () => {
    const metrics = createMetrics();
    // The gauges are only declared here; their database is read when scraped, which this test does not do.
    metrics.watchDatabase(undefined as unknown as Database);
    metrics.collectProcessMetrics();
    const exposed = new Set(metrics.registry.getMetricsAsArray().map((metric) => (metric as unknown as { name: string }).name));

    const rules = fs.readFileSync(RULES, 'utf8');
    const named = new Set([...rules.matchAll(/\b((?:netid|nodejs|process)_[a-z0-9_]+)/g)].map((match) => match[1]!.replace(/_(bucket|count|sum)$/, '')));
    expect(named.size).toBeGreaterThan(8);
    for (const name of named) expect([name, exposed.has(name)]).toEqual([name, true]);
  });
});
