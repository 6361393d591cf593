// One logger shape for every service: pino JSON lines on stdout, tagged with the service so
// logs from several processes (dns, health, edge) can share one collector and still be told apart.
import { hostname } from 'node:os';
import { pino } from 'pino';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Defaults to 'info'. */
  level?: string;
  service: string;
  /** Defaults to stdout; tests pass a stream to capture lines. */
  destination?: pino.DestinationStream;
}

export function isLogLevel(level: string): level is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(level);
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? 'info';
  // A typo in --log-level should stop start-up, not silently log at some other level.
  if (!isLogLevel(level)) {
    throw new Error(`invalid log level "${level}" (expected one of: ${LOG_LEVELS.join(', ')})`);
  }
  const options: pino.LoggerOptions = {
    level,
    // Setting `base` replaces pino's default pid/hostname, so keep them beside the service.
    base: { service: opts.service, pid: process.pid, hostname: hostname() },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
