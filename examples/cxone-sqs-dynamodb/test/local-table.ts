// A DynamoDB Local table of idemkit's default layout for one test file, deleted afterwards (also used by the CDK example's bundle test).
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStore } from '@idemkit/dynamodb';

/** Local credentials and region, as the Lambda runtime would give them. */
export const LOCAL_AWS_ENV = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'example', AWS_SECRET_ACCESS_KEY: 'example' };

/** Creates a table named `<prefix>-<random>` on `endpoint`; `drop()` deletes it and closes the client. */
export async function localTable(endpoint: string, prefix: string): Promise<{ tableName: string; drop(): Promise<void> }> {
  const admin = new DynamoDBClient({ endpoint, region: LOCAL_AWS_ENV.AWS_REGION, credentials: { accessKeyId: 'example', secretAccessKey: 'example' } });
  const tableName = `${prefix}-${randomUUID()}`;
  await new DynamoDBStore({ client: admin, tableName }).createTable();
  return {
    tableName,
    async drop() {
      try {
        await admin.send(new DeleteTableCommand({ TableName: tableName }));
      } finally {
        admin.destroy();
      }
    },
  };
}
