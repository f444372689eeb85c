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
 */
export function lambdaContext(remainingMs: number, functionName = 'idemkit-bench'): LambdaContextLike {
  const deadline = Date.now() + remainingMs;
  return {
    functionName,
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}
