import type { IdempotencyRecord } from './types.js';

// MemoryStore's compact form of one occurrence. A store of completed keys is mostly these, so
// each is one fixed-shape object: no key (the map holds it), the status as a number, and times as
// small integers relative to the store's base instant, which V8 keeps unboxed (a timestamp near
// 1.7e12 would need a boxed double each). About 50 bytes, where a plain record object takes ~200.

const IN_PROGRESS = 0;
const COMPLETED = 1;

/** One occurrence as MemoryStore keeps it. Times are `epoch ms − base`. */
export class StoredOccurrence {
  constructor(
    public status: typeof IN_PROGRESS | typeof COMPLETED,
    public fencingToken: number,
    public leaseExpiresAt: number,
    public expiresAt: number,
    public claimedAt: number,
    public windowAnchor: number | undefined,
    public fingerprint: string | undefined,
    public result: string | undefined,
    public owner: string | undefined,
  ) {}

  /** Compacts a record (as the claim rules make it) relative to `base`. */
  static from(record: IdempotencyRecord, base: number): StoredOccurrence {
    return new StoredOccurrence(
      record.status === 'completed' ? COMPLETED : IN_PROGRESS,
      record.fencingToken,
      record.leaseExpiresAt - base,
      record.expiresAt - base,
      record.claimedAt - base,
      record.windowAnchor === undefined ? undefined : record.windowAnchor - base,
      record.fingerprint,
      record.result,
      record.owner,
    );
  }

  get completed(): boolean {
    return this.status === COMPLETED;
  }

  markCompleted(expiresAt: number, result: string | undefined): void {
    this.status = COMPLETED;
    this.expiresAt = expiresAt;
    this.result = result;
  }

  /** The record callers see: absolute times, optional fields only when set. */
  toRecord(key: string, base: number): IdempotencyRecord {
    const record: IdempotencyRecord = {
      key,
      status: this.status === COMPLETED ? 'completed' : 'in_progress',
      fencingToken: this.fencingToken,
      leaseExpiresAt: this.leaseExpiresAt + base,
      expiresAt: this.expiresAt + base,
      claimedAt: this.claimedAt + base,
    };
    if (this.fingerprint !== undefined) record.fingerprint = this.fingerprint;
    if (this.result !== undefined) record.result = this.result;
    if (this.windowAnchor !== undefined) record.windowAnchor = this.windowAnchor + base;
    if (this.owner !== undefined) record.owner = this.owner;
    return record;
  }
}

/** A key's occurrences: one (the usual case, no array), or several for a windowed key's history. */
export type StoredEntry = StoredOccurrence | StoredOccurrence[];

/** The occurrences of an entry as a list. */
export function occurrencesOf(entry: StoredEntry | undefined): readonly StoredOccurrence[] {
  if (entry === undefined) return [];
  return Array.isArray(entry) ? entry : [entry];
}
