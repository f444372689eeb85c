import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Match, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** The banner ESM bundles need for CommonJS dependencies (see the README's "Bundling"). */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export interface GenesysConsumerStackProps extends StackProps {
  /**
   * The partner event source of your Genesys Cloud EventBridge integration,
   * `aws.partner/genesys.com/cloud/<organization id>/<integration name>`; associate it with an
   * event bus first (EventBridge console › Partner event sources): the bus has the same name.
   */
  genesysEventSource: string;
  /** Base URL of the CRM API the function posts activities to. */
  crmUrl: string;
}

/** Genesys Cloud → EventBridge → Lambda, deduplicated in DynamoDB by idemkit. */
export class GenesysConsumerStack extends Stack {
  constructor(scope: Construct, id: string, props: GenesysConsumerStackProps) {
    super(scope, id, props);

    // idemkit's table: a string key `id`, TTL on `ttl` (epoch seconds), on-demand.
    const table = new Table(this, 'IdempotencyTable', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      removalPolicy: RemovalPolicy.DESTROY, // claims are short-lived; RETAIN if you prefer
    });
    const failed = new Queue(this, 'FailedEvents', { retentionPeriod: Duration.days(14) });

    const handler = new NodejsFunction(this, 'LogConversationActivity', {
      // The function name is the first half of idemkit's key namespace: keep it stable.
      functionName: 'genesys-activity-log',
      entry: fileURLToPath(new URL('../src/handler.ts', import.meta.url)),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30), // the claim's lease follows the invocation's remaining time
      environment: {
        IDEMKIT_STORE: `dynamodb://${table.tableName}`,
        // Remember each change for a day: longer than Lambda retries an event (6 hours at most).
        IDEMKIT_RETENTION_MS: String(24 * 60 * 60 * 1000),
        CRM_URL: props.crmUrl,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        externalModules: ['@aws-sdk/*'], // Lambda's runtime provides the AWS SDK v3
        minify: true, // hence the explicit `name` in the handler
        sourceMap: true,
      },
      // A thrown error (the CRM is down, the key is in progress elsewhere) is retried by Lambda;
      // what still fails lands in the queue. Check it against the table before replaying.
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(failed),
    });
    // At run time idemkit needs these two actions, on this table only.
    table.grant(handler, 'dynamodb:UpdateItem', 'dynamodb:GetItem');

    new Rule(this, 'ConversationEvents', {
      eventBus: EventBus.fromEventBusName(this, 'GenesysEventBus', props.genesysEventSource),
      eventPattern: {
        source: Match.prefix('aws.partner/genesys.com'),
        detailType: Match.prefix('v2.detail.events.conversation.'), // Genesys puts the topic here
      },
      // EventBridge's own retries, when it cannot invoke the function at all.
      targets: [new LambdaFunction(handler, { retryAttempts: 185, maxEventAge: Duration.hours(24), deadLetterQueue: failed })],
    });
  }
}
