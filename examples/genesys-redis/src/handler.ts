// Genesys Cloud → EventBridge → this Lambda: logs each conversation change as a CRM activity, once.
//
// EventBridge and Genesys Cloud deliver at least once, and Genesys sometimes emits one change
// twice, with new ids, a few ms apart. makeIdempotent claims a key per *logical* change in Redis
// before calling the CRM; every other delivery of that change gets the first run's result back.
import type { EventBridgeEvent } from 'aws-lambda';
import { makeIdempotent, type GenesysCloudDetail } from '@idemkit/eventbridge';
import { redisLoader } from '@idemkit/eventbridge/redis';
import { logActivity } from './crm.js';

export const handler = makeIdempotent(
  async (event: EventBridgeEvent<string, GenesysCloudDetail>) => {
    const { conversationId, participantId, eventTime } = event.detail.eventBody;
    const activity = await logActivity({
      conversationId,
      participantId,
      topic: event.detail.topicName,
      occurredAt: new Date(eventTime).toISOString(),
    });
    return { activityId: activity.id }; // stored in Redis: duplicates return it, without calling the CRM
  },
  {
    // Store and key strategy come from the environment (see template.yaml):
    //   IDEMKIT_STORE=rediss://…:6379             the ElastiCache endpoint
    //   IDEMKIT_STRATEGY={"preset":"genesysCloud"} conversation + participant + topic, 1 s sliding window
    // In code that would be: { store: new RedisStore({ client: new Redis(url) }), strategy: genesysCloud() }
    //
    // The bundler (SAM's esbuild) cannot know which store a URL will name, so the loader puts
    // the Redis adapter and ioredis into the bundle, and no other store.
    loader: redisLoader,
    //
    // A fixed name keeps the keys (`<function name>/logConversationActivity:…`) the same when a
    // bundler renames the function.
    name: 'logConversationActivity',
  },
);
