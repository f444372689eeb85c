import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { answeringHandler } from '../lib/answering-handler.js';
import { ownerOf, ownersOf } from '../lib/cpu-profile.js';
import { localDynamoDBClient } from '../lib/dynamodb-local.js';

// bench/dynamodb-client.ts times the client alone: its requests must be answered in process (the
// endpoint is a port nothing listens on), and the profile's samples must land with their owners.
describe('client cost', () => {
  it('answers every request in process, as DynamoDB answers a write that applied', async () => {
    const answering = answeringHandler();
    const client = localDynamoDBClient('http://127.0.0.1:9', { requestHandler: answering.handler, maxAttempts: 1 });
    const update = new UpdateItemCommand({
      TableName: 't',
      Key: { id: { S: 'k' } },
      UpdateExpression: 'SET #v = :v',
      ExpressionAttributeNames: { '#v': 'v' },
      ExpressionAttributeValues: { ':v': { N: '1' } },
    });
    const output = await client.send(update);
    await client.send(update);
    expect(output.$metadata.httpStatusCode).toBe(200);
    expect(output.Attributes).toBeUndefined();
    expect(answering.answered).toBe(2);
    client.destroy();
  });

  it('gives each sampled frame to the package that owns it', () => {
    const pnpm = '/repo/node_modules/.pnpm';
    expect(ownerOf(`file://${pnpm}/@smithy+core@3.41.0/node_modules/@smithy/core/dist-cjs/index.js`, 'f')).toBe('AWS SDK');
    expect(ownerOf(`file://${pnpm}/@aws-sdk+core@3.9.0/node_modules/@aws-sdk/core/dist-cjs/index.js`, 'f')).toBe('AWS SDK');
    expect(ownerOf(`file://${pnpm}/@aws-lambda-powertools+idempotency@2.35.0/node_modules/@aws-lambda-powertools/idempotency/lib/esm/x.js`, 'f')).toBe('Powertools');
    expect(ownerOf('file:///repo/packages/dynamodb/dist/index.js', 'claim')).toBe('idemkit');
    expect(ownerOf('file:///repo/bench/contenders/raw.ts', 'handle')).toBe('bench');
    expect(ownerOf('node:internal/async_hooks', 'promiseInitHook')).toBe('Node.js');
    expect(ownerOf('', '(garbage collector)')).toBe('garbage collector');
    expect(ownerOf('', 'runMicrotasks')).toBe('V8 and native');
    expect(ownerOf(`file://${pnpm}/ioredis@6.0.0/node_modules/ioredis/built/Command.js`, 'f')).toBe('other packages');
  });

  it('adds up the samples of each owner, leaving idle time out', () => {
    const frame = (id: number, url: string, functionName: string) => ({ id, callFrame: { url, functionName } });
    const profile = {
      nodes: [frame(1, '', '(idle)'), frame(2, 'file:///repo/packages/core/dist/index.js', 'run'), frame(3, '', '(garbage collector)'), frame(4, '', '(program)')],
      samples: [1, 2, 2, 3, 4, 1],
      timeDeltas: [500, 100, 150, 70, 30, 900],
    };
    expect(Object.fromEntries(ownersOf(profile))).toEqual({ idemkit: 250, 'garbage collector': 70 });
  });
});
