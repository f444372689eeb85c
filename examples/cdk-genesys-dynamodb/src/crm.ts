// The side effect: one activity in your CRM per conversation change. Replace with your CRM's client.

/** What the handler records for one Genesys Cloud conversation change. */
export interface ConversationActivity {
  conversationId: string;
  participantId: string;
  /** The Genesys topic, e.g. `v2.detail.events.conversation.{id}.user.start`. */
  topic: string;
  occurredAt: string;
}

/** Creates the activity and returns its id. A non-2xx answer throws, so the event is retried. */
export async function logActivity(activity: ConversationActivity): Promise<{ id: string }> {
  const response = await fetch(`${process.env.CRM_URL}/activities`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(activity),
  });
  if (!response.ok) throw new Error(`CRM answered ${response.status} ${response.statusText}`);
  return (await response.json()) as { id: string };
}
