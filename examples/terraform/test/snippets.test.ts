// The Terraform files parse as HCL, each store file completes consumer.tf (it defines exactly the
// locals the consumer reads, with the store URL idemkit expects), and docs/terraform.md shows them
// as they are. No Terraform binary here: @cdktf/hcl2json is Terraform's own HCL parser, in WASM.
import { readFileSync } from 'node:fs';
import { parse } from '@cdktf/hcl2json';
import { describe, expect, it } from 'vitest';

const read = (name: string) => readFileSync(new URL(`../${name}`, import.meta.url), 'utf8');
const STORES = { dynamodb: 'dynamodb://', redis: 'rediss://', postgres: 'postgres://' } as const;

type Hcl = Record<string, any>;
const hcl = async (name: string): Promise<Hcl> => parse(name, read(name)) as Promise<Hcl>;

describe('Terraform for an idemkit consumer', () => {
  it('consumer.tf configures idemkit from the store file’s locals, and routes Genesys events with retries', async () => {
    const consumer = await hcl('consumer.tf');
    const lambda = consumer['resource']['aws_lambda_function']['consumer'][0];
    expect(lambda.environment[0].variables).toMatchObject({
      IDEMKIT_STORE: '${local.idemkit_store}',
      IDEMKIT_STRATEGY: '${jsonencode({ preset = "genesysCloud" })}',
      IDEMKIT_RETENTION_MS: '86400000',
    });
    expect(lambda).toMatchObject({ runtime: 'nodejs22.x', handler: 'index.handler', function_name: 'genesys-crm-sync' });
    const target = consumer['resource']['aws_cloudwatch_event_target']['consumer'][0];
    expect(target.retry_policy[0]).toEqual({ maximum_event_age_in_seconds: 86400, maximum_retry_attempts: 185 });
    expect(consumer['resource']['aws_lambda_function_event_invoke_config']['consumer'][0].maximum_retry_attempts).toBe(2);
    expect(consumer['resource']['aws_cloudwatch_event_rule']['genesys'][0].event_pattern).toContain('v2.detail.events.conversation.');
  });

  it.each(Object.entries(STORES))('%s.tf defines the locals consumer.tf reads, with a %s store URL', async (store, scheme) => {
    const file = await hcl(`${store}.tf`);
    const locals = Object.assign({}, ...(file['locals'] as object[]));
    expect(Object.keys(locals).sort()).toEqual(['idemkit_store', 'store_policy_arns', 'vpc_config']);
    expect(locals['idemkit_store']).toMatch(new RegExp(`^${scheme.replace(/\//g, '\\/')}`));
  });

  it('dynamodb.tf: key id, TTL on ttl, and only UpdateItem and GetItem', async () => {
    const file = await hcl('dynamodb.tf');
    const table = file['resource']['aws_dynamodb_table']['idempotency'][0];
    expect(table).toMatchObject({ hash_key: 'id', billing_mode: 'PAY_PER_REQUEST', attribute: [{ name: 'id', type: 'S' }] });
    expect(table.ttl).toEqual([{ attribute_name: 'ttl', enabled: true }]);
    expect(file['resource']['aws_iam_policy']['idempotency_table'][0].policy).toContain('["dynamodb:UpdateItem", "dynamodb:GetItem"]');
  });

  it('redis.tf: noeviction, TLS in transit (rediss://), and the function in the VPC', async () => {
    const file = await hcl('redis.tf');
    expect(file['resource']['aws_elasticache_parameter_group']['idempotency'][0].parameter).toEqual([{ name: 'maxmemory-policy', value: 'noeviction' }]);
    expect(file['resource']['aws_elasticache_replication_group']['idempotency'][0]).toMatchObject({
      transit_encryption_enabled: true,
      parameter_group_name: '${aws_elasticache_parameter_group.idempotency.name}',
    });
  });

  it('postgres.tf: the password stays a sensitive variable and is URL-encoded into the store URL', async () => {
    const file = await hcl('postgres.tf');
    expect(file['variable']['database_password'][0].sensitive).toBe(true);
    const locals = Object.assign({}, ...(file['locals'] as object[]));
    expect(locals['idemkit_store']).toContain('${urlencode(var.database_password)}');
  });

  it('docs/terraform.md shows each file exactly as it is', () => {
    const doc = readFileSync(new URL('../../../docs/terraform.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```hcl\n# file: (\S+)\n([\s\S]*?)```/g)].map(([, name, body]) => [name, body]);
    expect(blocks.map(([name]) => name).sort()).toEqual(['consumer.tf', 'dynamodb.tf', 'postgres.tf', 'redis.tf']);
    for (const [name, body] of blocks) expect(body, name).toBe(read(name!));
  });
});
