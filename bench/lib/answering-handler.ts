// An HTTP handler for the AWS SDK that answers every request in process, at once, with a 200 and
// an empty JSON object: what DynamoDB returns to a PutItem or UpdateItem that applied and asks for
// no values back. No socket is opened, so a client given it costs only its own CPU (the SDK's
// middleware, serialisation, signing, and the library above it): bench/dynamodb-client.ts.
import { Readable } from 'node:stream';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

type RequestHandler = Extract<NonNullable<DynamoDBClientConfig['requestHandler']>, { handle: unknown }>;

/** Counts what it answered, so a measurement can check that every request reached it. */
export interface AnsweringHandler {
  readonly handler: RequestHandler;
  readonly answered: number;
}

/** A handler that answers each request with `200 {}`. */
export function answeringHandler(): AnsweringHandler {
  let answered = 0;
  const body = Buffer.from('{}');
  const handler = {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle() {
      answered++;
      return {
        response: {
          statusCode: 200,
          reason: 'OK',
          headers: { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(body.length) },
          body: Readable.from([body]),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  } as unknown as RequestHandler;
  return {
    handler,
    get answered() {
      return answered;
    },
  };
}
