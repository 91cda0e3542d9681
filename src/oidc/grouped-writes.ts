export interface GroupedWritesOptions<Group, Result> {
  /** The rows a request's writes touch; rows of one statement must be distinct. */
  rowsOf(group: Group): string[];
  /** At most this many requests and rows in one statement. */
  maxGroups: number;
  maxRows: number;
  /** Makes the writes of these requests in one statement, and gives each one's result in order. */
  write(groups: Group[]): Promise<Result[]>;
}

interface Waiting<Group, Result> {
  group: Group;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

/**
 * The writes requests make at the end of their answer wait for the end of
 * the event loop's round of I/O and go to PostgreSQL together, as one
 * statement: under load many requests finish in the same round, and a round
 * trip each was most of what NetID and PostgreSQL spent on a
 * client_credentials grant, and a large part of a refresh. Each request's
 * writes still go in one statement, so they are made all together or not at
 * all. A request touching a row another of the round touches too goes in a
 * statement of its own; and if a shared statement fails, each of its
 * requests is tried again alone, so no request fails for another's writes.
 */
export function createGroupedWrites<Group, Result>(options: GroupedWritesOptions<Group, Result>): (group: Group) => Promise<Result> {
  let waiting: Waiting<Group, Result>[] = [];

  const sendAlone = (entry: Waiting<Group, Result>) =>
    options.write([entry.group]).then((results) => entry.resolve(results[0]!), entry.reject);

  async function send(entries: Waiting<Group, Result>[]): Promise<void> {
    if (entries.length === 1) return sendAlone(entries[0]!);
    let results: Result[];
    try {
      results = await options.write(entries.map((entry) => entry.group));
    } catch {
      await Promise.all(entries.map(sendAlone));
      return;
    }
    entries.forEach((entry, index) => entry.resolve(results[index]!));
  }

  function sendRound(): void {
    let round = waiting;
    waiting = [];
    while (round.length) {
      const rows = new Set<string>();
      const statement: Waiting<Group, Result>[] = [];
      const next: Waiting<Group, Result>[] = [];
      for (const entry of round) {
        const entryRows = options.rowsOf(entry.group);
        const fits = !statement.length || (statement.length < options.maxGroups && rows.size + entryRows.length <= options.maxRows);
        if (fits && !entryRows.some((row) => rows.has(row))) {
          for (const row of entryRows) rows.add(row);
          statement.push(entry);
        } else {
          next.push(entry);
        }
      }
      void send(statement);
      round = next;
    }
  }

  return (group) => {
    if (!waiting.length) setImmediate(sendRound);
    return new Promise((resolve, reject) => waiting.push({ group, resolve, reject }));
  };
}
