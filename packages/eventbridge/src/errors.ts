import { ConfigError, KeyExtractionError } from '@idemkit/core';

/**
 * The store URL needs an adapter package (or its driver) that is not installed, or not in the
 * bundle. {@link MissingAdapterError.packages} lists exactly what to `npm install`; the message
 * also names the loader that puts them into a bundle.
 */
export class MissingAdapterError extends ConfigError {
  constructor(
    field: string,
    /** The package that could not be imported, e.g. `ioredis`. */
    readonly missing: string,
    /** Every package the store URL needs, e.g. `['@idemkit/redis', 'ioredis']`. */
    readonly packages: readonly string[],
    scheme: string,
    options: { cause?: unknown; loader?: { name: string; from: string } } = {},
  ) {
    super(
      field,
      `Cannot import \`${missing}\`, which ${scheme} store URLs need. Install it: npm install ${packages.join(' ')}` +
        (options.loader === undefined
          ? ''
          : `. In a bundle (esbuild, CDK NodejsFunction, SAM), also pass \`loader: ${options.loader.name}\` ` +
            `from "${options.loader.from}": bundlers cannot follow a package chosen by URL at run time`),
      { cause: options.cause },
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
