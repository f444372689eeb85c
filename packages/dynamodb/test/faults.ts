import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

// Faults DynamoDB Local cannot produce on demand, injected as client middleware in the
// `deserialize` step: inside the SDK's retry loop, so the SDK retries them as it would on AWS,
// and after the request was serialized, so a fault can let the request reach DynamoDB first.

/** A request as the SDK sends it: the command's name and its input. */
export interface SentCommand {
  command: string;
  input: Record<string, unknown>;
}

type Match = (sent: SentCommand) => boolean;

function intercept(client: DynamoDBClient, name: string, handle: (sent: SentCommand, send: () => Promise<unknown>) => Promise<unknown>): void {
  client.middlewareStack.add(
    (next, context) => async (args) => handle({ command: String(context.commandName), input: args.input as Record<string, unknown> }, () => next(args)) as never,
    { step: 'deserialize', name, priority: 'low' },
  );
}

/** The partition key value of an UpdateItem or GetItem (the default layout's `id`). */
export function keyOf(sent: SentCommand): string | undefined {
  return (sent.input['Key'] as { id?: { S?: string } } | undefined)?.id?.S;
}

/** A single-item write (an UpdateItem) of `key`. */
export function writeOf(key: string): (sent: SentCommand) => boolean {
  return (sent) => sent.command === 'UpdateItemCommand' && keyOf(sent) === key;
}

/**
 * A lost reply: the first `count` matching requests reach DynamoDB and are applied, but the
 * client gets a connection reset instead of the reply, so the SDK retries the same request.
 */
export function loseReplies(client: DynamoDBClient, match: Match, count = 1): { lost: () => number } {
  let lost = 0;
  intercept(client, 'idemkitLoseReplies', async (sent, send) => {
    const reply = await send();
    if (lost >= count || !match(sent)) return reply;
    lost += 1;
    throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });
  });
  return { lost: () => lost };
}

/** Every matching request is throttled (ThrottlingException) without reaching DynamoDB. */
export function throttle(client: DynamoDBClient, match: Match): { throttled: () => number } {
  let throttled = 0;
  intercept(client, 'idemkitThrottle', async (sent, send) => {
    if (!match(sent)) return send();
    throttled += 1;
    throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
  });
  return { throttled: () => throttled };
}

/**
 * Holds the first matching request before it is sent until `open()`; `held` resolves once it
 * waits. Every request is recorded in `sent`, and `settled(match, n)` resolves once n matching
 * requests have had their reply.
 */
export function gate(client: DynamoDBClient, match: Match) {
  const sent: SentCommand[] = [];
  let release!: () => void;
  let onHeld!: () => void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  const held = new Promise<void>((resolve) => (onHeld = resolve));
  const waiters: Array<{ match: Match; count: number; resolve: () => void }> = [];
  const replied: SentCommand[] = [];
  let holding = false;
  intercept(client, 'idemkitGate', async (request, send) => {
    sent.push(request);
    if (!holding && match(request)) {
      holding = true;
      onHeld();
      await opened;
    }
    try {
      return await send();
    } finally {
      replied.push(request);
      for (const waiter of waiters) if (replied.filter(waiter.match).length >= waiter.count) waiter.resolve();
    }
  });
  return {
    sent,
    held,
    open: () => release(),
    settled: (which: Match, count: number) =>
      new Promise<void>((resolve) => {
        if (replied.filter(which).length >= count) resolve();
        else waiters.push({ match: which, count, resolve });
      }),
  };
}
