// Outside things described by shape, so this package imports neither `aws-lambda` nor Middy
// at run time. `@types/aws-lambda`'s `Context`, `EventBridgeEvent`, `SQSEvent` and
// `SQSBatchResponse`, and Middy's request, are all assignable to these (see test/shapes.test.ts).

/** The parts of the Lambda context the wrappers read; `aws-lambda`'s `Context` fits. */
export interface LambdaContextLike {
  /** The function's name: the first half of the default namespace. */
  functionName?: string;
  /**
   * The invocation's request id. Lambda keeps it across its own retries of one asynchronous
   * invocation, so it names the claim's owner: a retry meeting its own in-progress claim takes it over.
   */
  awsRequestId?: string;
  /** Milliseconds left before Lambda stops this invocation: the claim's lease follows it. */
  getRemainingTimeInMillis?: () => number;
}

/** An EventBridge event as Lambda receives it; `aws-lambda`'s `EventBridgeEvent<T, D>` fits. */
export interface EventBridgeEventLike<TDetail = unknown> {
  /** The envelope id, unique per event put (a re-send by the source gets a new one). */
  id?: string;
  /** The event type, e.g. a Genesys Cloud topic name. */
  'detail-type'?: string;
  /** Who sent it, e.g. `aws.partner/genesys.com/…`. */
  source?: string;
  /** When EventBridge received the event (not when it happened at the source). */
  time?: string;
  /** The source's payload: what strategies and presets key on. */
  detail: TDetail;
}

/** One SQS record; `aws-lambda`'s `SQSRecord` fits. */
export interface SqsRecordLike {
  /** Named back in `batchItemFailures` when this record fails. */
  messageId: string;
  /** The message body: an EventBridge event, or its `detail`, as JSON text. */
  body: string;
  /** The queue's ARN; a name ending in `.fifo` makes the batch stop at its first failure. */
  eventSourceARN?: string;
}

/** An SQS batch; `aws-lambda`'s `SQSEvent` fits. */
export interface SqsEventLike<TRecord extends SqsRecordLike = SqsRecordLike> {
  /** The batch's records, in queue order (FIFO order for a FIFO queue). */
  Records: TRecord[];
}

/** One record Lambda should hand back to the queue. */
export interface SqsBatchItemFailure {
  /** The record's `messageId`. */
  itemIdentifier: string;
}

/**
 * What a partial-batch SQS handler returns (enable `ReportBatchItemFailures` on the event
 * source mapping); assignable to `aws-lambda`'s `SQSBatchResponse`.
 */
export interface SqsBatchResponseLike {
  /** The records that failed; every other record of the batch is deleted from the queue. */
  batchItemFailures: SqsBatchItemFailure[];
}

/** The Middy request the middleware reads and writes; Middy's `Request` fits. */
export interface MiddyLikeRequest<TEvent = unknown, TResult = unknown, TContext = LambdaContextLike> {
  /** The event the key is made from. */
  event: TEvent;
  /** The Lambda context: the lease follows its remaining time. */
  context: TContext;
  /** The handler's response, stored as the result in `after`. */
  response: TResult | null | undefined;
  /** Set by Middy 6 when a `before` answers early (the handler is skipped); set here for duplicates. */
  earlyResponse?: TResult | null | undefined;
  /** The error `onError` sees; the claim is released for it. */
  error: unknown;
}

/** A Middy middleware object; pass it to `middy(handler).use(…)`. */
export interface MiddyLikeMiddleware<TEvent = unknown, TResult = unknown, TContext = LambdaContextLike> {
  /** Claims the key; answers a completed duplicate early; throws while the key is in progress elsewhere. */
  before: (request: MiddyLikeRequest<TEvent, TResult, TContext>) => Promise<TResult | undefined>;
  /** Stores the response as the result and completes the claim. */
  after: (request: MiddyLikeRequest<TEvent, TResult, TContext>) => Promise<void>;
  /** Releases the claim, so a retry can run. */
  onError: (request: MiddyLikeRequest<TEvent, TResult, TContext>) => Promise<void>;
}
