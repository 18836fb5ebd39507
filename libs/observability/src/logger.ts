import pino, { type Logger, type LevelWithSilent } from 'pino';
import { currentRequestId } from './request-context';

export type { Logger } from 'pino';

/** Fields that must never reach a log line, wherever they appear in a logged object. */
const REDACTED_PATHS = [
  'password',
  'otp',
  'token',
  'authToken',
  'auth_token',
  'refreshToken',
  'refresh_token',
  'currentToken',
  'current_token',
  'secret',
  'authorization',
  '*.password',
  '*.otp',
  '*.token',
  '*.authToken',
  '*.refreshToken',
  '*.currentToken',
  '*.secret',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

/**
 * The process logger: JSON lines on stdout, one `service` field, and the current request id
 * on every line logged inside a request.
 */
export function createLogger(service: string, level: LevelWithSilent): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { request_id: requestId } : {};
    },
  });
}
