import type { Queryable } from '../lib/pg.js';

/**
 * The handler's side effect and its guard, the pattern idemkit documents for downstream writes:
 *
 * 1. On entry, the handler registers its fencing token with the resource (`fence` keeps the
 *    highest token per idempotency key). A newer holder therefore supersedes an older one as soon
 *    as it starts, not only once it writes.
 * 2. The effect (a ledger row) is written only while the fence still holds the handler's own
 *    token, in one statement: `FOR SHARE` re-reads the fence row as it is now, so a registration
 *    committed by a newer holder meanwhile refuses the write.
 */
export class FencedLedger {
  constructor(
    private readonly db: Queryable,
    private readonly schema: string,
  ) {}

  /** Raises the fence to `token` if it is higher; returns the fence's token afterwards. */
  async register(key: string, token: number): Promise<number> {
    const { rows } = await this.db.query<{ token: string }>({
      name: `fence_register_${this.schema}`,
      text: `INSERT INTO "${this.schema}".fence AS f (logical_key, token) VALUES ($1, $2)
        ON CONFLICT (logical_key) DO UPDATE SET token = GREATEST(f.token, EXCLUDED.token)
        RETURNING token`,
      values: [key, token],
    });
    return Number(rows[0]!.token);
  }

  /** The fence's current token for a key (0 when none registered). */
  async current(key: string): Promise<number> {
    const { rows } = await this.db.query<{ token: string }>({
      name: `fence_current_${this.schema}`,
      text: `SELECT token FROM "${this.schema}".fence WHERE logical_key = $1`,
      values: [key],
    });
    return rows[0] === undefined ? 0 : Number(rows[0].token);
  }

  /**
   * Writes the effect with no fence at all, as a handler does whose downstream cannot take a token
   * (an e-mail, a third-party API): only the claim keeps a second copy from running beside it.
   */
  async writeUnfenced(logicalId: number, token: number, worker: string): Promise<void> {
    await this.db.query({
      name: `ledger_write_unfenced_${this.schema}`,
      text: `INSERT INTO "${this.schema}".ledger (logical_id, fencing_token, worker) VALUES ($1, $2, $3)`,
      values: [logicalId, token, worker],
    });
  }

  /** Writes the effect if `token` is still the fence's; false when a newer holder took the key over. */
  async write(key: string, token: number, logicalId: number, worker: string): Promise<boolean> {
    const { rowCount } = await this.db.query({
      name: `ledger_write_${this.schema}`,
      text: `INSERT INTO "${this.schema}".ledger (logical_id, fencing_token, worker)
        SELECT $3, $2, $4 FROM "${this.schema}".fence
        WHERE logical_key = $1 AND token = $2
        FOR SHARE`,
      values: [key, token, logicalId, worker],
    });
    return rowCount === 1;
  }
}
