import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, test } from '@jest/globals';
import { KnexTimeoutError } from 'knex';
import pg from 'pg';
import { isDatabaseUnavailable } from '../../src/db/unavailable.js';

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const withCode = (message: string, code: string) => Object.assign(new pg.DatabaseError(message, 0, 'error'), { code });

describe('isDatabaseUnavailable', () => {
  test('a PostgreSQL server that refuses the connection', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: await closedPort(), user: 'netid', database: 'netid' });
    const error = await client.connect().catch((failure: unknown) => failure);
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  test('a PostgreSQL server that takes the connection and never answers', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => {
      held.push(socket.on('error', () => undefined));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'netid', database: 'netid', connectionTimeoutMillis: 100 });
      const error = await client.connect().catch((failure: unknown) => failure);
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('an embedded database that was closed', async () => {
    const database = new PGlite();
    await database.close();
    const error = await database.query('select 1').catch((failure: unknown) => failure);
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  test.each([
    ['a connection the server or network closed', new Error('Connection terminated unexpectedly')],
    ['a pooled connection that broke earlier', new Error('Client has encountered a connection error and is not queryable')],
    ['no pooled connection in time', new KnexTimeoutError('Knex: Timeout acquiring a connection. The pool is probably full.')],
    ['a server shutting down', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up', withCode('the database system is starting up', '57P03')],
    ['a server out of connection slots', withCode('sorry, too many clients already', '53300')],
    ['a connection failure', withCode('connection failure', '08006')],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
  ])('%s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  test.each([
    ['a statement error', withCode('syntax error at or near "selec"', '42601')],
    ['a unique violation', withCode('duplicate key value violates unique constraint', '23505')],
    ['an outgoing request that failed', new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })],
    ['a fault in NetID', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['something thrown that is not an error', 'ECONNREFUSED'],
  ])('not %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
