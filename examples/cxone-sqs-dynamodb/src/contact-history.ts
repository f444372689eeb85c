// The side effect: one entry in the customer's contact history per CXone event. Replace with your system's client.

/** What the handler records for one NICE CXone event. */
export interface ContactHistoryEntry {
  conversationId: string;
  eventType: string;
  occurredAt: string;
}

/** Appends the entry. A non-2xx answer throws: the record goes back to the queue and is retried. */
export async function appendContactHistory(entry: ContactHistoryEntry): Promise<void> {
  const response = await fetch(`${process.env.CONTACT_HISTORY_URL}/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(entry),
  });
  if (!response.ok) throw new Error(`contact history answered ${response.status} ${response.statusText}`);
}
