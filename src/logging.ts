import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs. Anything that could carry a credential is redacted by
 * path as a second line of defence; NetID code never logs request bodies.
 */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'code',
  '*.code',
  'code_verifier',
  '*.code_verifier',
  'client_secret',
  '*.client_secret',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'id_token',
  '*.id_token',
  'secret',
  '*.secret',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  'headers["set-cookie"]',
  '*.headers["set-cookie"]',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'netid' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}
