/**
 * `@idemkit/eventbridge/dynamodb`: puts the DynamoDB adapter and the AWS SDK's DynamoDB client
 * into a bundle, for `dynamodb://TABLE` store URLs in a bundled handler.
 * @packageDocumentation
 */
import { bundledLoader } from './bundled.js';

/**
 * Loads `@idemkit/dynamodb` and `@aws-sdk/client-dynamodb` for `dynamodb://TABLE` store URLs
 * through imports a bundler (esbuild, CDK `NodejsFunction`, SAM) can see, so the bundle holds this
 * store and no other (CDK leaves `@aws-sdk/*` to Lambda's runtime by default). Not needed without
 * a bundler, nor when you pass a `DynamoDBStore` yourself.
 * @example
 * ```ts
 * import { makeIdempotent } from '@idemkit/eventbridge';
 * import { dynamodbLoader } from '@idemkit/eventbridge/dynamodb';
 *
 * export const handler = makeIdempotent(fn, { store: process.env.IDEMKIT_STORE, loader: dynamodbLoader });
 * ```
 */
export const dynamodbLoader = bundledLoader('dynamodbLoader', {
  '@idemkit/dynamodb': () => import('@idemkit/dynamodb' as string),
  '@aws-sdk/client-dynamodb': () => import('@aws-sdk/client-dynamodb' as string),
});
