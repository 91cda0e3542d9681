import type { Database } from './database.js';
import { createStatementRunner, preparedStatement } from './prepared-statements.js';

const readVersion = preparedStatement('cache_version', 'select version from cache_versions where name = ?');

export interface VersionedCacheOptions {
  /** The row of `cache_versions` a trigger bumps whenever the cached table changes. */
  name: string;
  /** How stale an entry may be, at most, after another instance changed the table. */
  checkEveryMs?: number;
  maxEntries?: number;
}

export interface VersionedCache<T> {
  /** The cached value, or `load()`'s, kept when nothing changed the table meanwhile. Misses are not kept. */
  get(key: string, load: () => Promise<T | undefined>): Promise<T | undefined>;
  /**
   * Drops what this process holds for `key`, after a change it made itself;
   * for a change inside a transaction, again once that ends, so a read
   * between the change and the commit cannot keep the old row.
   */
  forget(key: string, trx?: Database): void;
}

/**
 * A per-process cache of rows that change rarely and are read on every
 * request. Before serving from memory it makes sure it has compared, within
 * the last `checkEveryMs`, the table's version counter with the one it saw
 * when it filled up; one lookup a second however many requests, and none when
 * idle. Another instance's change thus shows here within that time; this
 * process's own changes at once (`forget`). Values are kept as JSON, so no
 * caller can change what the next one gets.
 */
export function createVersionedCache<T>(db: Database, options: VersionedCacheOptions): VersionedCache<T> {
  const checkEveryMs = options.checkEveryMs ?? 1000;
  const maxEntries = options.maxEntries ?? 10_000;
  const run = createStatementRunner(db);
  const entries = new Map<string, string>();
  let version: string | undefined;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let checking: Promise<boolean> | undefined;
  // Bumped on every drop, so that a load that began before it cannot put back what was dropped.
  let generation = 0;

  const clear = () => {
    entries.clear();
    generation += 1;
  };

  async function check(): Promise<boolean> {
    const started = Date.now();
    try {
      const { rows } = await run<{ version: string | number }>(readVersion, [options.name]);
      const current = rows[0] ? String(rows[0].version) : undefined;
      if (current === undefined) return false;
      if (current !== version) {
        clear();
        version = current;
      }
      checkedAt = started;
      return true;
    } catch {
      // No version to compare with (a database not yet migrated, a lost connection): read through.
      clear();
      return false;
    }
  }

  /** True when the entries may be used: the version was compared recently enough. */
  async function fresh(): Promise<boolean> {
    if (Date.now() - checkedAt < checkEveryMs) return true;
    checking ??= check().finally(() => {
      checking = undefined;
    });
    return checking;
  }

  return {
    async get(key, load) {
      if (!(await fresh())) return load();
      const cached = entries.get(key);
      if (cached !== undefined) {
        // Least recently used goes first when the cache is full.
        entries.delete(key);
        entries.set(key, cached);
        return JSON.parse(cached) as T;
      }
      const loadedIn = generation;
      const value = await load();
      if (value !== undefined && loadedIn === generation) {
        entries.set(key, JSON.stringify(value));
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      }
      return value;
    },
    forget(key, trx) {
      const drop = () => {
        entries.delete(key);
        generation += 1;
      };
      drop();
      const transaction = trx as (Database & { isTransaction?: boolean; executionPromise?: Promise<unknown> }) | undefined;
      if (transaction?.isTransaction && transaction.executionPromise) transaction.executionPromise.then(drop, drop);
    },
  };
}
