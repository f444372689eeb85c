import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { TestProject } from 'vitest/node';
// The dynamodb package's own launcher: the same Java command, port choice and error messages.
import startDynamoDBLocal from '../../packages/dynamodb/test/global-setup.js';

/** A running DynamoDB endpoint and how to stop it (a no-op when it was already running). */
export interface DynamoDBEndpoint {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local in memory on a free port, or uses `DYNAMODB_ENDPOINT` when set.
 * The launcher is written as a vitest global setup; it only ever calls `provide`, so a stand-in does.
 */
export async function startDynamoDB(): Promise<DynamoDBEndpoint> {
  let endpoint: string | undefined;
  const project = { provide: (_key: string, value: string) => void (endpoint = value) } as unknown as TestProject;
  const stop = await startDynamoDBLocal(project);
  if (endpoint === undefined) throw new Error('the DynamoDB Local launcher did not report an endpoint');
  return { endpoint, stop: stop ?? (async () => undefined) };
}

/** A client for DynamoDB Local, with the fake credentials it accepts. */
export function localDynamoDBClient(endpoint: string, config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'idemkit', secretAccessKey: 'idemkit' },
    ...config,
  });
}
