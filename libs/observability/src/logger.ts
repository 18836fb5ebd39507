import pino, { type DestinationStream, type LevelWithSilent, type Logger, type LoggerOptions } from 'pino';
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

/** Errors with their stack, but never the bound parameters of a failed SQL query (they hold secrets). */
function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  delete serialized['parameters'];
  if (serialized['driverError'] && typeof serialized['driverError'] === 'object') {
    serialized['driverError'] = { ...serialized['driverError'], parameters: undefined };
  }
  return serialized;
}

/**
 * The process logger: JSON lines on stdout, one `service` field, and the current request id
 * on every line logged inside a request.
 */
export function createLogger(service: string, level: LevelWithSilent, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError },
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { request_id: requestId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
