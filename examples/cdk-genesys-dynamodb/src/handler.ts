// Genesys Cloud → EventBridge → this Lambda: one CRM activity per conversation change, once,
// with the claims in DynamoDB. The whole idemkit part is the wrapper and its three options.
import { makeIdempotent } from '@idemkit/eventbridge';
import { dynamodbLoader } from '@idemkit/eventbridge/dynamodb';
import { logActivity } from './crm.js';

export const handler = makeIdempotent(
  // `event` is a GenesysCloudEvent, typed by the preset: no annotation needed.
  async (event) => {
    const { conversationId, participantId, eventTime } = event.detail.eventBody;
    const activity = await logActivity({
      conversationId,
      participantId,
      topic: event.detail.topicName,
      occurredAt: new Date(eventTime).toISOString(),
    });
    return { activityId: activity.id }; // duplicates get this back, without calling the CRM
  },
  {
    // conversation + participant + topic, with a 1 s sliding window over eventBody.eventTime
    strategy: { preset: 'genesysCloud' },
    // The store is IDEMKIT_STORE=dynamodb://<table> (set by the stack); the loader puts the
    // DynamoDB adapter into the bundle, which cannot know at build time which store a URL names.
    loader: dynamodbLoader,
    name: 'logConversationActivity', // fixed, so the keys survive minification
  },
);
