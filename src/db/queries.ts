import { AsyncLocalStorage } from 'node:async_hooks';
import type { Channel, OutgoingMessage } from '../delivery/outbox.js';
import { enqueueMessage } from '../delivery/outbox.js';
import type { Metrics } from '../operations/metrics.js';
import { createSigningKeyStore } from '../oidc/signing-keys.js';
import { countedCodes } from '../profile/counted-codes.js';
import { createOneTimeCodes, type CodeRequest, type CodeScope } from '../profile/one-time-codes.js';
import type { Sealer } from '../security/sealing.js';
import { createAccountQueries } from './accounts.js';
import { createAuditQueries } from './audit.js';
import { createVersionedCache } from './cached-by-version.js';
import { createClientQueries, type ClientCache, type ClientMetadata } from './clients.js';
import { afterCommit, isTransaction, type Database } from './database.js';
import { createFederationRequestQueries } from './federation-requests.js';
import { createIdempotencyQueries } from './idempotency.js';
import { createIdentityQueries } from './identities.js';
import { createInvitationQueries } from './invitations.js';
import { createMembershipQueries } from './memberships.js';
import { createPhotoQueries } from './photos.js';
import { createProfileQueries } from './profiles.js';
import { createResourceServerQueries, type ResourceServer, type ResourceServerCache } from './resource-servers.js';
import { createSessionQueries } from './sessions.js';
import { createFactorQueries } from './factors.js';
import { createProfileSessionQueries } from './profile-sessions.js';

/** What the queries are built from; one per process, shared by every transaction's queries. */
export interface QueryEnvironment {
  sealer: Sealer;
  /** Key of the one-time codes' hashes. */
  codeKey: Buffer;
  /** Per-process caches of rarely changing rows (clients, resource servers). */
  caches: { clients: ClientCache; resourceServers: ResourceServerCache };
  /** Counts codes issued, refused, accepted and turned down, when the process serves metrics. */
  metrics?: Pick<Metrics, 'oneTimeCodes' | 'rateLimitRefusals'> | undefined;
}

export function createQueryCaches(db: Database): QueryEnvironment['caches'] {
  return {
    // Every token, introspection and userinfo request looks its client up; clients change a few times a day.
    clients: createVersionedCache<ClientMetadata>(db, { name: 'clients' }),
    // Looked up on every token request that names a resource; registered a few times a year.
    resourceServers: createVersionedCache<ResourceServer>(db, { name: 'resource_servers' }),
  };
}

/** `root` is the outermost transaction, whose commit is the one that counts for afterCommit. */
function build(db: Database, environment: QueryEnvironment, root: Database) {
  const plainCodes = createOneTimeCodes(db, environment.codeKey);
  const codes = environment.metrics ? countedCodes(plainCodes, environment.metrics) : plainCodes;
  return {
    profiles: createProfileQueries(db),
    accounts: createAccountQueries(db),
    memberships: createMembershipQueries(db),
    clients: createClientQueries(db, environment.sealer, environment.caches.clients),
    resourceServers: createResourceServerQueries(db, environment.caches.resourceServers),
    audit: createAuditQueries(db),
    photos: createPhotoQueries(db),
    sessions: createSessionQueries(db),
    factors: createFactorQueries(db),
    profileSessions: createProfileSessionQueries(db),
    invitations: createInvitationQueries(db),
    identities: createIdentityQueries(db),
    federationRequests: createFederationRequestQueries(db),
    idempotency: createIdempotencyQueries(db, environment.sealer),
    /** The signing keys' rotation steps, so that a step and its audit record are stored together. */
    signingKeys: createSigningKeyStore(db, environment.sealer),
    codes: {
      issue: (request: CodeRequest) => codes.issue(request, db),
      verify: (input: CodeScope & { code: string }) => codes.verify(input, db),
      pendingTarget: (scope: CodeScope) => codes.pendingTarget(scope, db),
    },
    outbox: {
      /** Queues a message with the change that causes it (call it in the same transaction). */
      enqueue: (message: OutgoingMessage & { channel: Channel }) => enqueueMessage(db, environment.sealer, message),
    },
    /** Runs `effect` once these queries' transaction has committed, or at once outside one. */
    afterCommit: (effect: () => void) => afterCommit(root, effect),
  };
}

/**
 * The repositories every rule reads and writes through, bound to the pool or
 * to one transaction. Rules take these, never a database handle: a change
 * made of several steps runs in `transaction()`, whose queries are the same
 * repositories bound to it (nested calls become savepoints).
 */
export type Queries = ReturnType<typeof build> & {
  transaction<T>(work: (queries: Queries) => Promise<T>): Promise<T>;
};

function bind(db: Database, environment: QueryEnvironment, root: Database): Queries {
  return {
    ...build(db, environment, root),
    // Inside a transaction, knex makes a savepoint; its commit is the outermost one's.
    transaction: (work) => db.transaction((trx) => work(bind(trx, environment, isTransaction(root) ? root : trx))),
  };
}

/** The transaction a whole request's work joins (runInTransaction), for the queries bound to the pool. */
const ambient = new AsyncLocalStorage<Queries>();

/**
 * The queries bound to the pool. Where the caller runs inside runInTransaction,
 * every repository and every nested transaction() resolve to that transaction
 * instead, so rules written against these queries join it without knowing.
 */
export function createQueries(db: Database, environment: QueryEnvironment): Queries {
  const pool = bind(db, environment, db);
  return new Proxy(pool, {
    get(target, property, receiver) {
      return Reflect.get(ambient.getStore() ?? target, property, receiver);
    },
  });
}

/**
 * Runs `work` in one transaction that every rule it calls joins: all of it is
 * stored, or none. The management API runs each write this way, together
 * with the record of its Idempotency-Key.
 */
export function runInTransaction<T>(queries: Queries, work: (queries: Queries) => Promise<T>): Promise<T> {
  return queries.transaction((transaction) => ambient.run(transaction, () => work(transaction)));
}
