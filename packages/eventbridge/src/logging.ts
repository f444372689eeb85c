import { jsonLogger, silentLogger, type IdempotencyLogger } from '@idemkit/core';

/** How much the default logger writes; `off` writes nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

/** The accepted log levels, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'off'];

/**
 * Writes one line to stdout as it is. Lambda's patched `console.log` would prefix it with a
 * timestamp and request id (or wrap it in its own JSON log format), so CloudWatch would no
 * longer see a bare JSON object.
 */
export function writeStdoutLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * The wrappers' default logger: core's `jsonLogger` writing bare JSON lines to stdout (which
 * Lambda sends to CloudWatch Logs, where Logs Insights reads their fields), at `level` and above.
 * At `info`, that is one line per duplicate skipped (key, strategy, original time; never the
 * payload) plus warnings and errors.
 * @example levelLogger('warn') // only warnings and errors
 */
export function levelLogger(level: LogLevel = 'info', base: IdempotencyLogger = jsonLogger(writeStdoutLine)): IdempotencyLogger {
  if (level === 'off') return silentLogger;
  const threshold = LOG_LEVELS.indexOf(level);
  // A dropped level gets silentLogger's own method, which tells the engine not to build its lines.
  const at = (name: Exclude<LogLevel, 'off'>) => (LOG_LEVELS.indexOf(name) >= threshold ? base[name].bind(base) : silentLogger[name]);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
