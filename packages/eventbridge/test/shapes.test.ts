// The wrappers describe Lambda and Middy by shape; these assignments are checked by
// `tsc` (npx tsc -p tsconfig.json --noEmit) against the real @types/aws-lambda and @middy/core types.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Request as MiddyRequest } from '@middy/core';
import type {
  Context,
  EventBridgeEvent,
  EventBridgeHandler,
  SQSBatchResponse,
  SQSEvent,
  SQSHandler,
  SQSRecord,
} from 'aws-lambda';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { MemoryStore } from '@idemkit/core';
import {
  makeIdempotent,
  makeIdempotentSqs,
  type EventBridgeEventLike,
  type LambdaContextLike,
  type MiddyLikeRequest,
  type SqsBatchResponseLike,
  type SqsEventLike,
  type SqsRecordLike,
} from '../src/index.js';

interface ConversationDetail {
  conversationId: string;
  status: 'connected' | 'disconnected';
}

describe('shapes of outside types', () => {
  it('accepts the aws-lambda types where it describes them by shape', () => {
    expectTypeOf<EventBridgeEvent<'Conversation', ConversationDetail>>().toExtend<EventBridgeEventLike<ConversationDetail>>();
    expectTypeOf<Context>().toExtend<LambdaContextLike>();
    expectTypeOf<SQSEvent>().toExtend<SqsEventLike>();
    expectTypeOf<SQSRecord>().toExtend<SqsRecordLike>();
    expectTypeOf<SqsBatchResponseLike>().toExtend<SQSBatchResponse>();
    expectTypeOf<MiddyRequest<EventBridgeEvent<'x', ConversationDetail>, string>>().toExtend<
      MiddyLikeRequest<EventBridgeEvent<'x', ConversationDetail>, string, Context>
    >();
  });

  it('returns handlers that are the aws-lambda handler types', () => {
    const store = new MemoryStore();
    const direct = makeIdempotent(
      async (event: EventBridgeEvent<'Conversation', ConversationDetail>, context: Context) => ({
        conversation: event.detail.conversationId,
        requestId: context.awsRequestId,
      }),
      { store, env: false },
    );
    const asEventBridgeHandler: EventBridgeHandler<'Conversation', ConversationDetail, { conversation: string; requestId: string }> =
      direct;
    expectTypeOf(direct).parameters.toEqualTypeOf<[EventBridgeEvent<'Conversation', ConversationDetail>, Context]>();
    expectTypeOf(direct).returns.resolves.toEqualTypeOf<{ conversation: string; requestId: string }>();

    const batch = makeIdempotentSqs(
      async (event: EventBridgeEvent<'Conversation', ConversationDetail>, { record }: { record: SQSRecord; context: Context }) =>
        `${event.detail.status}:${record.messageId}`,
      { store, env: false },
    );
    const asSqsHandler: SQSHandler = batch;
    expect([typeof asEventBridgeHandler, typeof asSqsHandler]).toEqual(['function', 'function']);
  });

  it('imports neither aws-lambda nor Middy at run time', () => {
    const sources = listFiles(join(import.meta.dirname, '../src')).filter((file) => file.endsWith('.ts'));
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      const runtimeImports = [...text.matchAll(/^import\s+(?!type\b)[^;]*from\s+'([^']+)'/gm)].map((match) => match[1]);
      expect(runtimeImports.filter((name) => name === 'aws-lambda' || name?.startsWith('@middy/')), file).toEqual([]);
      expect(text, file).not.toMatch(/from '(ioredis|pg|@aws-sdk\/client-dynamodb|@idemkit\/(redis|postgres|dynamodb))'/);
    }
  });
});

function listFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}
