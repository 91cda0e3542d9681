import type { UpsertWrite } from './request-writes.js';

/** At most this many rows in one statement; more waiting go in the next. */
const MAX_ROWS = 128;

interface Group {
  upserts: UpsertWrite[];
  resolve(): void;
  reject(error: unknown): void;
}

const keyOf = (write: UpsertWrite) => `${write.model}\u0000${write.id}`;

/**
 * Upserts of oidc_models that requests send without a consume (a client
 * credentials token, a session, a grant and its code) wait for the end of
 * the event loop's round of I/O and go to PostgreSQL together, as one
 * statement (`write` stores distinct rows in one): under load many requests finish in the same round, and a round
 * trip each was most of what NetID and PostgreSQL spent on a
 * client_credentials grant. Each request's rows still go in one statement,
 * so they are stored all together or not at all. Rows of one statement must
 * be distinct, so a request writing a row another of the round writes too
 * goes in a statement of its own; and if a shared statement fails, each of
 * its requests is tried again alone, so no request fails for another's rows.
 */
export function createGroupedUpserts(write: (rows: UpsertWrite[]) => Promise<unknown>) {
  let waiting: Group[] = [];

  const sendAlone = (group: Group) => write(group.upserts).then(() => group.resolve(), group.reject);

  async function send(groups: Group[]): Promise<void> {
    if (groups.length === 1) return sendAlone(groups[0]!);
    try {
      await write(groups.flatMap((group) => group.upserts));
    } catch {
      await Promise.all(groups.map(sendAlone));
      return;
    }
    for (const group of groups) group.resolve();
  }

  function sendRound(): void {
    let round = waiting;
    waiting = [];
    while (round.length) {
      const keys = new Set<string>();
      const statement: Group[] = [];
      const next: Group[] = [];
      for (const group of round) {
        const groupKeys = group.upserts.map(keyOf);
        const fits = keys.size + groupKeys.length <= MAX_ROWS || !statement.length;
        if (fits && !groupKeys.some((key) => keys.has(key))) {
          for (const key of groupKeys) keys.add(key);
          statement.push(group);
        } else {
          next.push(group);
        }
      }
      void send(statement);
      round = next;
    }
  }

  /** Stores a request's upserts, distinct rows, together with those of other requests of this round. */
  return function upsert(upserts: UpsertWrite[]): Promise<void> {
    if (!waiting.length) setImmediate(sendRound);
    return new Promise((resolve, reject) => waiting.push({ upserts, resolve, reject }));
  };
}
