/** Structured fields for a log line. idemkit never puts payloads here unless asked. */
export type LogFields = Record<string, unknown>;

/** The logger idemkit writes to; any of Powertools Logger, pino or console-like objects fit. */
export interface IdempotencyLogger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const discard = (): void => {};

/**
 * Discards everything: the default, so a library never writes to a user's logs uninvited. A
 * logger whose method for a level *is* this logger's (`silentLogger.debug`, one function for every
 * level) is known to drop that level, so idemkit does not even build its lines' fields.
 */
export const silentLogger: IdempotencyLogger = {
  debug: discard,
  info: discard,
  warn: discard,
  error: discard,
};

/**
 * Writes one JSON object per line to stdout/stderr, the shape CloudWatch Logs Insights queries.
 * @example
 * ```ts
 * idempotent(handler, { store, strategy, logger: jsonLogger() });
 * ```
 */
export function jsonLogger(write: (line: string) => void = (line) => console.log(line)): IdempotencyLogger {
  const emit = (level: string) => (message: string, fields: LogFields = {}) =>
    write(JSON.stringify({ level, message, library: 'idemkit', ...fields }));
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
