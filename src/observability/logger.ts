import { hostname } from 'node:os';

import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths redacted from every log line. Secrets must never reach a log; this is
 * the safety net behind not logging them in the first place.
 */
export const redactedPaths = [
  'password',
  'token',
  'secret',
  'authorization',
  'headers.authorization',
  'headers["x-auth-token"]',
  'headers["x-subject-token"]',
  '*.password',
  '*.token',
  '*.secret',
  '*.application_credential_secret',
];

/**
 * Creates the process logger: pino JSON lines on stdout, or on the given
 * destination (tests pass a stream to capture lines).
 */
export function createLogger(
  options: { level?: string; name?: string } = {},
  destination?: NodeJS.WritableStream,
): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    // The program name goes under "logger" because "name" is the key of the
    // Kubernetes object's name on reconcile lines.
    base: {
      pid: process.pid,
      hostname: hostname(),
      logger: options.name ?? 'nova-docker-operator',
    },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(config, destination as pino.DestinationStream) : pino(config);
}
