import type { IdempotencyLogger } from '../../src/index.js';

/** A logger that keeps every line, for asserting what was logged (and that nothing raw was). */
export function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> | undefined }> = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push({ level, message, fields });
  const logger: IdempotencyLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}
