/**
 * Logging: pino writing JSON lines to stdout. Every line is a typed event with a stable `event` name
 * (catalog.loaded, request.completed, query.slow, auth.failed, ratelimit.rejected, ...). Secrets never go
 * in: the redact list below removes credentials even if a caller passes them by mistake.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export type LogEvent =
  | 'server.starting' | 'server.ready' | 'server.stopping' | 'server.stopped' | 'server.failed'
  | 'config.loaded' | 'config.reloaded' | 'config.invalid'
  | 'catalog.loaded' | 'catalog.warning' | 'catalog.failed'
  | 'db.embedded.starting' | 'db.embedded.ready' | 'db.demo.seeded' | 'db.error'
  | 'request.completed' | 'request.failed' | 'query.slow'
  | 'auth.failed' | 'auth.expired' | 'auth.forbidden' | 'auth.throttled' | 'auth.demo_credential'
  | 'ratelimit.rejected' | 'ratelimit.store_error';

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['password', '*.password', 'authorization', '*.authorization', 'headers.authorization', 'secret', '*.secret'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** Writes one typed event. `fields` must never contain secrets (they are redacted anyway). */
export function logEvent(logger: Logger, level: 'info' | 'warn' | 'error' | 'debug', event: LogEvent, fields: Record<string, unknown> = {}, msg?: string): void {
  logger[level]({ event, ...fields }, msg ?? event);
}

/** An error as log fields: message and stack of an Error, else its text. */
export function errorFields(e: unknown): { message: string; stack: string | undefined } | string {
  return e instanceof Error ? { message: e.message, stack: e.stack } : String(e);
}
