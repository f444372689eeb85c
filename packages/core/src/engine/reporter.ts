import { keyInMessage } from '../errors.js';
import type { DuplicateInfo, EngineOptions, FirstRunInfo, OutcomeKind } from './options.js';
import { silentLogger, type IdempotencyLogger, type LogFields } from './logger.js';

/** How keys appear in idemkit's log lines. */
export type KeyLogging = 'hash' | 'raw';

/** The log form of a key: a short hash by default, since keys are raw field values (emails, phone numbers). */
export function keyForLog(key: string, mode: KeyLogging): string {
  // 16 base64url characters (96 bits) tell keys apart without revealing the field values.
  return mode === 'raw' ? key : keyInMessage(key);
}

/** Renders an error for a log line: name and message, never a payload. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Where the engine tells the world what happened: the logger (keys hashed unless asked), and the
 * user's hooks. A hook that throws never fails a delivery — the side effect may already have
 * happened, and failing now would make every redelivery fail too; its error is logged instead.
 */
export class EngineReporter {
  constructor(
    private readonly logger: IdempotencyLogger,
    private readonly strategy: string,
    private readonly keyLogging: KeyLogging,
    private readonly hooks: Pick<EngineOptions<never, never>, 'onOutcome' | 'onDuplicate' | 'onFirstRun'> & {
      onDuplicate?: ((duplicate: DuplicateInfo<never>) => void) | undefined;
      onFirstRun?: ((run: FirstRunInfo<never>) => void) | undefined;
    },
  ) {}

  /** Reports how one delivery ended to `onOutcome`. */
  outcome(kind: OutcomeKind, key?: string, fencingToken?: number): void {
    const hook = this.hooks.onOutcome;
    if (hook === undefined) return;
    const outcome = { kind, strategy: this.strategy, ...(key === undefined ? {} : { key }), ...(fencingToken === undefined ? {} : { fencingToken }) };
    this.callHook('onOutcome', () => hook(outcome));
  }

  /** Reports a skipped duplicate to `onDuplicate`. */
  duplicate<TEvent>(info: DuplicateInfo<TEvent>): void {
    const hook = this.hooks.onDuplicate as ((duplicate: DuplicateInfo<TEvent>) => void) | undefined;
    if (hook !== undefined) this.callHook('onDuplicate', () => hook(info));
  }

  /**
   * Reports a handler about to run under a new claim to `onFirstRun`, and in a debug line (key
   * hashed unless asked). Not an outcome: `onOutcome` hears once per delivery how it ended.
   */
  firstRun<TEvent>(run: () => FirstRunInfo<TEvent>, key: string, fencingToken: number): void {
    this.debug('idempotency: first run', key, { fencingToken });
    const hook = this.hooks.onFirstRun as ((run: FirstRunInfo<TEvent>) => void) | undefined;
    // Built only for a hook: every new event passes here, and most engines have none.
    if (hook !== undefined) this.callHook('onFirstRun', () => hook(run()));
  }

  /** Runs a user hook; its error (or rejected promise) is logged, never thrown. */
  callHook(name: string, call: () => unknown): void {
    try {
      const returned = call();
      if (returned instanceof Promise) returned.catch((error: unknown) => this.hookFailed(name, error));
    } catch (error) {
      this.hookFailed(name, error);
    }
  }

  /** Whether the logger writes `level` at all (see {@link silentLogger}): when not, no fields are built. */
  enabled(level: 'debug' | 'info' | 'warn' | 'error'): boolean {
    return this.logger[level] !== silentLogger[level];
  }

  debug(message: string, key: string | undefined, fields: LogFields = {}): void {
    this.log('debug', message, key, fields);
  }

  info(message: string, key: string | undefined, fields: LogFields = {}): void {
    this.log('info', message, key, fields);
  }

  warn(message: string, key: string | undefined, fields: LogFields = {}): void {
    this.log('warn', message, key, fields);
  }

  error(message: string, key: string | undefined, fields: LogFields = {}): void {
    this.log('error', message, key, fields);
  }

  // The logger is the user's code too: a logger that throws must not fail a delivery either.
  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string, key: string | undefined, fields: LogFields): void {
    // Hashing the key for a line nobody reads is most of what a duplicate costs in process.
    if (!this.enabled(level)) return;
    try {
      this.logger[level](message, this.fields(key, fields));
    } catch {
      // Nowhere left to report to.
    }
  }

  private hookFailed(name: string, error: unknown): void {
    try {
      this.logger.error(`idempotency: the ${name} hook threw; the delivery is unaffected`, { hook: name, error: describeError(error) });
    } catch {
      // A logger that throws too has nowhere left to report to.
    }
  }

  private fields(key: string | undefined, fields: LogFields): LogFields {
    return key === undefined ? { strategy: this.strategy, ...fields } : { key: keyForLog(key, this.keyLogging), strategy: this.strategy, ...fields };
  }
}
