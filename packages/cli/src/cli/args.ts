import { parseArgs } from 'node:util';
import { ConfigError, eventId } from '@idemkit/core';
import { resolveStrategy } from '@idemkit/eventbridge';
import type { AnalyzeOptions } from '../analysis/types.js';

/** What the command line asks for. */
export type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'analyze'; options: AnalyzeOptions; json: boolean; html?: string; progress: boolean };

const OPTIONS = {
  strategy: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  html: { type: 'string' },
  'window-ms': { type: 'string' },
  'retention-ms': { type: 'string' },
  'max-entries': { type: 'string' },
  'reorder-buffer': { type: 'string' },
  sample: { type: 'string' },
  examples: { type: 'string' },
  time: { type: 'string' },
  entity: { type: 'string' },
  state: { type: 'string' },
  volatile: { type: 'string', multiple: true },
  'no-discover': { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

/**
 * Reads `idemkit analyze <file…> [options]`.
 * @throws {@link ConfigError} naming the option (`--window-ms`) or the argument (`<file>`).
 */
export function parseCommand(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util names the option in its message: `Unknown option '--windowMs'`.
    const option = /'(-[^']*)'/.exec((error as Error).message)?.[1] ?? '(arguments)';
    throw new ConfigError(option, `${(error as Error).message.replace(/\. To specify a positional.*$/s, '')}; see idemkit --help`);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };
  const [command, ...files] = positionals;
  if (command === undefined || command === 'help') return { kind: 'help' };
  if (command !== 'analyze') throw new ConfigError('(command)', `unknown command ${JSON.stringify(command)}; the command is "analyze"`);
  if (files.length === 0) throw new ConfigError('<file>', 'is missing: name at least one capture file, e.g. idemkit analyze capture.jsonl');
  const strategies = values.strategy ?? [];
  strategies.forEach(checkStrategy);
  const discover = values['no-discover'] !== true;
  if (!discover && strategies.length === 0) {
    throw new ConfigError('--no-discover', 'leaves no candidate: give at least one --strategy with it');
  }
  const options: AnalyzeOptions = {
    files,
    strategies,
    discover,
    ...positive('window-ms', values['window-ms']),
    ...positive('retention-ms', values['retention-ms']),
    ...positive('max-entries', values['max-entries']),
    ...positive('reorder-buffer', values['reorder-buffer'], 0),
    ...positive('sample', values.sample),
    ...positive('examples', values.examples),
    ...path('time', values.time),
    ...path('entity', values.entity),
    ...path('state', values.state),
    ...(values.volatile === undefined ? {} : { volatile: values.volatile.map((value) => checkPath('--volatile', value)) }),
  };
  return {
    kind: 'analyze',
    options,
    json: values.json === true,
    ...(values.html === undefined ? {} : { html: values.html }),
    progress: values['no-progress'] !== true,
  };
}

const OPTION_NAMES = {
  'window-ms': 'windowMs',
  'retention-ms': 'retentionMs',
  'max-entries': 'maxEntries',
  'reorder-buffer': 'reorderBuffer',
  sample: 'sampleSize',
  examples: 'examples',
} as const;

function positive(option: keyof typeof OPTION_NAMES, text: string | undefined, least = 1): Partial<AnalyzeOptions> {
  if (text === undefined) return {};
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < least) {
    throw new ConfigError(`--${option}`, `must be a whole number of at least ${least}, got ${JSON.stringify(text)}`);
  }
  return { [OPTION_NAMES[option]]: value };
}

function path(option: 'time' | 'entity' | 'state', text: string | undefined): Partial<AnalyzeOptions> {
  return text === undefined ? {} : { [option]: checkPath(`--${option}`, text) };
}

// The path rules are core's: a path eventId accepts is one every strategy accepts.
function checkPath(option: string, text: string): string {
  try {
    eventId({ path: text });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(option, problemOf(error), { cause: error });
  }
  return text;
}

// Checked here so the error names the option and which one: `--strategy #2 (of[1].windowMs)`.
function checkStrategy(text: string, index: number): void {
  try {
    resolveStrategy(text);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(`--strategy #${index + 1} (${error.field})`, problemOf(error), { cause: error });
  }
}

/** A ConfigError's problem without its `[idemkit] invalid config at "field": ` prefix. */
export function problemOf(error: ConfigError): string {
  return error.message.replace(/^\[idemkit\] invalid config at "[^"]*": /, '');
}
