import { writeFile } from 'node:fs/promises';
import { ConfigError } from '@idemkit/core';
import { analyze } from '../analysis/analyze.js';
import { renderHtml } from '../report/html.js';
import { renderText } from '../report/text.js';
import { parseCommand, problemOf } from './args.js';
import { ProgressBar, type ProgressStream } from './progress.js';
import { USAGE } from './usage.js';

/** Where the CLI writes: stdout for the report, stderr for progress and messages. */
export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
}

/** Exit codes of {@link main}. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Runs the `idemkit` command line and returns its exit code: the report on stdout (tables, or
 * JSON with `--json`), an HTML report with `--html`, and a progress bar on stderr when it is a
 * terminal. Bad arguments exit 2 with the option named; an unreadable file exits 1.
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: readonly string[], io: CliIo = process, about: { version?: string } = {}): Promise<number> {
  let command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`idemkit: ${error.field}: ${problemOf(error)}\n`);
    return EXIT.usage;
  }
  if (command.kind === 'help') {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (command.kind === 'version') {
    io.stdout.write(`${about.version ?? 'unknown'}\n`);
    return EXIT.ok;
  }
  const bar = command.progress && io.stderr.isTTY === true ? new ProgressBar(io.stderr) : undefined;
  let report;
  try {
    report = await analyze({ ...command.options, ...(bar === undefined ? {} : { onProgress: (progress) => bar.update(progress) }) });
  } catch (error) {
    bar?.done();
    if (error instanceof ConfigError) {
      io.stderr.write(`idemkit: ${error.field}: ${problemOf(error)}\n`);
      return EXIT.usage;
    }
    if (!isFileError(error)) throw error;
    io.stderr.write(`idemkit: ${error.message}\n`);
    return EXIT.failed;
  }
  bar?.done();
  io.stdout.write(command.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report, { width: io.stdout.columns ?? 100 }));
  if (command.html !== undefined) {
    try {
      await writeFile(command.html, renderHtml(report));
    } catch (error) {
      if (!isFileError(error)) throw error;
      io.stderr.write(`idemkit: --html: ${error.message}\n`);
      return EXIT.failed;
    }
    io.stderr.write(`idemkit: HTML report written to ${command.html}\n`);
  }
  return EXIT.ok;
}

// A file system error (ENOENT, EACCES, EISDIR…): the user's to fix, so a message, not a stack.
function isFileError(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && /^E[A-Z]+$/.test(code);
}
