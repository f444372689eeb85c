import { ConfigError, KeyExtractionError } from '@idemkit/core';

/**
 * The store URL needs an adapter package (or its driver) that is not installed.
 * {@link MissingAdapterError.packages} lists exactly what to `npm install`.
 */
export class MissingAdapterError extends ConfigError {
  constructor(
    field: string,
    /** The package that could not be imported, e.g. `ioredis`. */
    readonly missing: string,
    /** Every package the store URL needs, e.g. `['@idemkit/redis', 'ioredis']`. */
    readonly packages: readonly string[],
    scheme: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      field,
      `Cannot import \`${missing}\`, which ${scheme} store URLs need. Install it: npm install ${packages.join(' ')}`,
      options,
    );
    this.name = 'MissingAdapterError';
  }
}

/**
 * An SQS record whose body is not a JSON object: no key can be built, so the record fails
 * alone (its `messageId` goes to `batchItemFailures`) and never takes its neighbours with it.
 */
export class MalformedRecordError extends KeyExtractionError {
  constructor(
    /** The SQS message that could not be read. */
    readonly messageId: string,
    problem: string,
    options: { cause?: unknown } = {},
  ) {
    super('body', `${problem} (SQS message ${messageId})`);
    this.name = 'MalformedRecordError';
    if (options.cause !== undefined) this.cause = options.cause;
  }
}
