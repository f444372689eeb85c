/** The part of a Lambda context both libraries read (the `aws-lambda` types are not a bench dependency). */
export interface LambdaContextLike {
  functionName: string;
  awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/**
 * A stand-in Lambda context: both libraries take their lease (Powertools: in-progress expiry)
 * from `getRemainingTimeInMillis()`, so both get the same one.
 */
export function lambdaContext(remainingMs: number, functionName = 'idemkit-bench'): LambdaContextLike {
  const deadline = Date.now() + remainingMs;
  return {
    functionName,
    awsRequestId: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}
