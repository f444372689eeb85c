// The stack as CloudFormation will see it: what idemkit needs (the table, the two IAM actions,
// the store URL, the ESM bundle with its banner) and the Genesys wiring, checked on the template.
// Bundling is skipped here; `cdk synth` in CI bundles the handler for real.
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { GenesysConsumerStack } from '../lib/genesys-consumer-stack.js';

const SOURCE = 'aws.partner/genesys.com/cloud/6f1c2d3e-0000-4000-a000-000000000001/crm-sync';
let template: Template;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  template = Template.fromStack(new GenesysConsumerStack(app, 'Test', { genesysEventSource: SOURCE, crmUrl: 'https://crm.example.com' }));
});

describe('cdk-genesys-dynamodb stack', () => {
  it('has the idempotency table idemkit expects: string key id, TTL on ttl, on demand', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
  });

  it('names the table as the store URL, and grants exactly UpdateItem and GetItem on it', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Environment: {
        Variables: Match.objectLike({
          IDEMKIT_STORE: { 'Fn::Join': ['', ['dynamodb://', { Ref: Match.stringLikeRegexp('IdempotencyTable') }]] },
          IDEMKIT_RETENTION_MS: '86400000',
        }),
      },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>);
    const onTable = statements.filter((statement) => JSON.stringify(statement.Resource).includes('IdempotencyTable'));
    expect(onTable.map((statement) => statement.Action)).toEqual([['dynamodb:UpdateItem', 'dynamodb:GetItem']]);
  });

  it('routes Genesys conversation events from the partner bus to the function, with retries and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: SOURCE,
      EventPattern: { source: [{ prefix: 'aws.partner/genesys.com' }], 'detail-type': [{ prefix: 'v2.detail.events.conversation.' }] },
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 }, DeadLetterConfig: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });
});
