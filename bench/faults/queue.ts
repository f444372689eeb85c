import type { Queryable } from '../lib/pg.js';
import { NOW_MS } from './schema.js';

/** A delivery handed to one worker; `receipt` names this hand-out (a later redelivery gets a new one). */
export interface ReceivedDelivery {
  id: number;
  logicalId: number;
  kind: string;
  body: string;
  receipt: number;
  receives: number;
  fault: string | null;
}

/**
 * The work queue, with SQS's semantics: `receive` hides a delivery for the visibility timeout;
 * `ack` deletes it only for the current receipt (a worker that lost the delivery to a
 * redelivery cannot ack it); `retryLater` makes it visible again after a delay.
 */
export class DeliveryQueue {
  constructor(
    private readonly db: Queryable,
    private readonly schema: string,
  ) {}

  /** Takes the next visible delivery, or undefined; SKIP LOCKED lets workers receive in parallel. */
  async receive(visibilityMs: number): Promise<ReceivedDelivery | undefined> {
    const { rows } = await this.db.query<ReceivedDelivery>({
      name: `receive_${this.schema}`,
      text: `UPDATE "${this.schema}".deliveries AS d
        SET visible_at = ${NOW_MS} + $1, receipt = d.receipt + 1, receives = d.receives + 1
        FROM (
          SELECT id FROM "${this.schema}".deliveries
          WHERE NOT acked AND visible_at <= ${NOW_MS}
          ORDER BY visible_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
        ) AS next, "${this.schema}".logical_events AS l
        WHERE d.id = next.id AND l.logical_id = d.logical_id
        RETURNING d.id, d.logical_id AS "logicalId", d.kind, d.body, d.receipt, d.receives, l.fault`,
      values: [visibilityMs],
    });
    return rows[0];
  }

  /** Acknowledges a delivery: done for good. False when another worker has received it since. */
  async ack(delivery: ReceivedDelivery): Promise<boolean> {
    const { rowCount } = await this.db.query({
      name: `ack_${this.schema}`,
      text: `UPDATE "${this.schema}".deliveries SET acked = true WHERE id = $1 AND receipt = $2 AND NOT acked`,
      values: [delivery.id, delivery.receipt],
    });
    return rowCount === 1;
  }

  /** Gives a failed delivery back, visible again after `delayMs` (unless it was received again meanwhile). */
  async retryLater(delivery: ReceivedDelivery, delayMs: number): Promise<void> {
    await this.db.query({
      name: `retry_${this.schema}`,
      text: `UPDATE "${this.schema}".deliveries SET visible_at = ${NOW_MS} + $3 WHERE id = $1 AND receipt = $2 AND NOT acked`,
      values: [delivery.id, delivery.receipt, delayMs],
    });
  }
}
