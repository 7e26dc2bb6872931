import { pino, type Logger } from 'pino';

export type { Logger };

/** A JSON logger whose lines carry the service name; correlation ids are added by child loggers. */
export function createLogger(options: { service: string; level: string }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
