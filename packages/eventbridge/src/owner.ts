import type { LambdaContextLike } from './types.js';

/**
 * The owner of a claim made in this invocation: its request id. A claim's reply can be lost (a
 * client re-sending after a reconnect, the AWS SDK's own retry) although the claim landed; Lambda's
 * async retries of a failed invocation also keep the request id. Both then meet a claim their
 * owner made and take it over, instead of waiting a whole lease for it.
 */
export function ownerOf(context: LambdaContextLike | undefined): string | undefined {
  const id = context?.awsRequestId;
  return typeof id === 'string' && id.length > 0 && id.length <= 100 ? id : undefined;
}

/**
 * The owner of one SQS record's claim: the request id and the record's position in the batch.
 * Never the message id: SQS redelivers a message with the same id while its first delivery may
 * still be running elsewhere (visibility timeout), and can hand one message over twice in one
 * batch; neither copy may take over the other's claim.
 */
export function recordOwnerOf(context: LambdaContextLike | undefined, position: number): string | undefined {
  const owner = ownerOf(context);
  return owner === undefined ? undefined : `${owner}#${position}`;
}
