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
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      io.stderr.write(`idemkit: ${(error as Error).message}\n`);
      return EXIT.failed;
    }
    throw error;
  }
  bar?.done();
  io.stdout.write(command.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report, { width: io.stdout.columns ?? 100 }));
  if (command.html !== undefined) {
    await writeFile(command.html, renderHtml(report));
    io.stderr.write(`idemkit: HTML report written to ${command.html}\n`);
  }
  return EXIT.ok;
}
