import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { ConfigError, IdempotencyStoreError } from '@idemkit/core';
import { isUnsupportedOperation, toStoreError } from './errors.js';
import type { TableLayout } from './layout.js';
import type { CreateTableOptions, CreateTableResult } from './types.js';

/**
 * Creates the table for a layout (if missing), waits until it is ACTIVE and turns TTL on
 * for the TTL attribute. Meant for development and tests; production tables belong in IaC.
 */
export async function createTable(
  client: DynamoDBClient,
  layout: TableLayout,
  options: CreateTableOptions = {},
): Promise<CreateTableResult> {
  const { tableName } = layout;
  const input = tableInput(layout, options);
  let created = true;
  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceInUseException') throw toStoreError(error, tableName, 'createTable');
    created = false;
  }
  try {
    await waitUntilTableExists(
      { client, maxWaitTime: options.maxWaitSeconds ?? 120, minDelay: 1, maxDelay: 5 },
      { TableName: tableName },
    );
  } catch (error) {
    throw new IdempotencyStoreError('dynamodb', `table "${tableName}" did not become ACTIVE in time`, { cause: error });
  }
  return { created, timeToLive: await enableTimeToLive(client, layout) };
}

function tableInput(layout: TableLayout, options: CreateTableOptions): CreateTableCommandInput {
  const attributes: AttributeDefinition[] = [{ AttributeName: layout.partitionKey, AttributeType: 'S' }];
  const keySchema: KeySchemaElement[] = [{ AttributeName: layout.partitionKey, KeyType: 'HASH' }];
  if (layout.sortKey !== undefined) {
    attributes.push({ AttributeName: layout.sortKey.name, AttributeType: 'S' });
    keySchema.push({ AttributeName: layout.sortKey.name, KeyType: 'RANGE' });
  }
  const billingMode = options.billingMode ?? 'PAY_PER_REQUEST';
  const input: CreateTableCommandInput = {
    TableName: layout.tableName,
    AttributeDefinitions: attributes,
    KeySchema: keySchema,
    BillingMode: billingMode,
  };
  if (billingMode === 'PROVISIONED') {
    input.ProvisionedThroughput = {
      ReadCapacityUnits: options.readCapacityUnits ?? 5,
      WriteCapacityUnits: options.writeCapacityUnits ?? 5,
    };
  } else if (options.readCapacityUnits !== undefined || options.writeCapacityUnits !== undefined) {
    throw new ConfigError('billingMode', "capacity units need billingMode: 'PROVISIONED'");
  }
  return input;
}

/** Turns TTL on unless it already is; a TTL on another attribute is a mismatch worth stopping for. */
async function enableTimeToLive(client: DynamoDBClient, layout: TableLayout): Promise<CreateTableResult['timeToLive']> {
  const { tableName, ttlAttribute } = layout;
  try {
    const { TimeToLiveDescription: current } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = current?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') {
      if (current?.AttributeName === ttlAttribute) return 'enabled';
      throw new ConfigError(
        'ttlAttribute',
        `table "${tableName}" has TTL on "${current?.AttributeName}", not "${ttlAttribute}"`,
      );
    }
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: ttlAttribute },
      }),
    );
    return 'enabled';
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (isUnsupportedOperation(error)) return 'unsupported';
    throw toStoreError(error, tableName, 'createTable (enabling TTL)');
  }
}
