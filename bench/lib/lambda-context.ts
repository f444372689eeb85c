import { randomUUID } from 'node:crypto';

/** The part of a Lambda context both libraries read (the `aws-lambda` types are not a bench dependency). */
export interface LambdaContextLike {
  functionName: string;
  awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/**
 * A stand-in Lambda context: both libraries take their lease (Powertools: in-progress expiry)
 * from `getRemainingTimeInMillis()`, so both get the same one. Each context is an invocation of
 * its own, with its own request id: idemkit names a claim's owner by it, and a claim of the same
 * owner takes an in-progress one over (Lambda's retry of its own invocation).
 *
 * A class, not an object literal with a closure: the Lambda runtime hands the handler its
 * context for free, and a closure per call (which tsx also names with a property write) cost
 * the contenders that take a context about 2 µs a call that the raw commands never paid.
 */
class StandInContext implements LambdaContextLike {
  readonly awsRequestId = randomUUID();

  constructor(
    readonly functionName: string,
    private readonly deadline: number,
  ) {}

  getRemainingTimeInMillis(): number {
    return Math.max(0, this.deadline - Date.now());
  }
}

/** A fresh invocation's context with `remainingMs` left. */
export function lambdaContext(remainingMs: number, functionName = 'idemkit-bench'): LambdaContextLike {
  return new StandInContext(functionName, Date.now() + remainingMs);
}
