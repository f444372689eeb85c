/** A sliding-window component of a key: see {@link ClaimWindow}. */
export interface KeyWindow {
  /** Event time, epoch ms. */
  at: number;
  windowMs: number;
}

/** One labelled piece of a key, kept so users can see why two events share (or do not share) a key. */
export interface KeyPart {
  /** Where the value came from, e.g. `detail.conversationId`. */
  label: string;
  value: string;
}

/** One identity of an event: a key, what it was made from, and its window if it has one. */
export interface DedupIdentity {
  /** The key without namespace, e.g. `eventId:1f2c…`. Never contains `undefined`. */
  key: string;
  /** The parts the key was made from, in order. */
  parts: KeyPart[];
  /** Present for windowed strategies: duplicates are events closer than `windowMs`. */
  window?: KeyWindow;
}

/**
 * What a strategy makes of one event: its identity, and for {@link anyOf} strategies the further
 * identities it has (`also`): the event is a duplicate when any of them matches a remembered one.
 */
export interface DedupKey extends DedupIdentity {
  /** Further identities of the same event, from an `anyOf` strategy; keys differ from `key` and each other. */
  also?: DedupIdentity[];
}

/** Turns an event into a dedup key. Built-ins come from {@link strategyFromConfig} or the factories. */
export interface DedupKeyStrategy<TEvent = unknown> {
  /** Strategy name; the key's first segment. */
  readonly name: string;
  /**
   * Computes the key.
   * @throws {@link KeyExtractionError} when a field is missing, empty or of the wrong type.
   */
  keyFor(event: TEvent): DedupKey;
}
