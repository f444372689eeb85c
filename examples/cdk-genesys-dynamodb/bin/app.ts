// The CDK app: `npx cdk deploy -c genesysEventSource=aws.partner/genesys.com/cloud/<org id>/<name> -c crmUrl=https://crm.example.com`.
import { App } from 'aws-cdk-lib';
import { GenesysConsumerStack } from '../lib/genesys-consumer-stack.js';

const app = new App();
new GenesysConsumerStack(app, 'GenesysConsumer', {
  genesysEventSource: app.node.tryGetContext('genesysEventSource') ?? 'aws.partner/genesys.com/cloud/00000000-0000-0000-0000-000000000000/example',
  crmUrl: app.node.tryGetContext('crmUrl') ?? 'https://crm.example.com',
});
