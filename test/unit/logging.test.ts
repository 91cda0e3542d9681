import { describe, expect, test } from '@jest/globals';
import { createLogger } from '../../src/logging.js';

/** Logs the object through a real pino logger and returns the JSON line it wrote. */
function logged(object: Record<string, unknown>, message = 'probe'): { line: string; entry: Record<string, unknown> } {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  logger.info(object, message);
  expect(lines).toHaveLength(1);
  return { line: lines[0]!, entry: JSON.parse(lines[0]!) };
}

const secrets = {
  password: 'pw-hunter2',
  client_secret: 'cs-6c0f1e',
  code: 'code-SplxlOBeZQQYbYS6',
  code_verifier: 'cv-dBjftJeZ4CVP',
  token: 'tok-opaque',
  access_token: 'at-eyJhbGciOi',
  refresh_token: 'rt-8xLOxBtZp8',
  id_token: 'idt-eyJraWQi',
  secret: 'sec-installation',
};
const headers = {
  authorization: 'Basic Y2xpZW50OnNlY3JldA==',
  cookie: '_session=abc123; _interaction=def456',
  'set-cookie': ['_session=abc123; path=/; httponly'],
};
const everySecretValue = [...Object.values(secrets), headers.authorization, 'abc123', 'def456'];

describe('createLogger', () => {
  test('writes JSON with the service name, level and message', () => {
    const { entry } = logged({ requestId: 'r-1' }, 'signed in');
    expect(entry).toMatchObject({ service: 'netid', level: 30, msg: 'signed in', requestId: 'r-1' });
  });

  test('leaves out entries below its level', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line: string) => void lines.push(line) });
    logger.info('chatty');
    logger.warn('worth knowing');
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['worth knowing']);
  });

  test('redacts credentials logged at the top level', () => {
    const { line, entry } = logged({ ...secrets, headers, account: 'analytical-engines' });

    for (const field of Object.keys(secrets)) expect(entry[field]).toBe('[redacted]');
    expect(entry.headers).toEqual({ authorization: '[redacted]', cookie: '[redacted]', 'set-cookie': '[redacted]' });
    expect(entry.account).toBe('analytical-engines');
    for (const value of everySecretValue) expect(line).not.toContain(value);
  });

  test('redacts credentials one level down, as in a logged request body or error', () => {
    const { line, entry } = logged({
      body: { ...secrets, grant_type: 'authorization_code' },
      req: { method: 'POST', url: '/token', headers: { ...headers, 'user-agent': 'openid-client' } },
    });

    const body = entry.body as Record<string, unknown>;
    for (const field of Object.keys(secrets)) expect(body[field]).toBe('[redacted]');
    expect(body.grant_type).toBe('authorization_code');
    expect(entry.req).toEqual({
      method: 'POST',
      url: '/token',
      headers: { authorization: '[redacted]', cookie: '[redacted]', 'set-cookie': '[redacted]', 'user-agent': 'openid-client' },
    });
    for (const value of everySecretValue) expect(line).not.toContain(value);
  });

  test('does not change the object the caller logged', () => {
    const body = { password: 'pw-hunter2' };
    logged({ body });
    expect(body.password).toBe('pw-hunter2');
  });
});
