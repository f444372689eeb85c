// What a new event costs the DynamoDB *client*: each contender's wrapped handler with every HTTP
// request answered in process at once (lib/answering-handler.ts), so nothing is measured but CPU
// in this process — the AWS SDK (middleware, serialisation, signing, log filtering), the library
// above it, Node.js and the garbage collector. The scenario tables time the client and DynamoDB
// Local together; this says how much of a gap between two contenders is client work, and whose.
// All three contenders run in this one process, interleaved, as in `pnpm bench`.
//
//   node --import ./bench/lib/loader.mjs bench/dynamodb-client.ts [--quick]     (~50 s; prints a table)
import { dynamodbContenders, perContender } from './contenders/dynamodb.js';
import type { Contender } from './contenders/types.js';
import { answeringHandler } from './lib/answering-handler.js';
import { OWNERS, OwnerProfiler } from './lib/cpu-profile.js';
import { localDynamoDBClient } from './lib/dynamodb-local.js';
import { genesysEvent } from './lib/events.js';
import { countDynamoDB } from './lib/round-trips.js';
import { num, textTable } from './lib/table.js';

const quick = process.argv.includes('--quick');
const plan = quick ? { warmUp: 300, timedRounds: 4, profiledRounds: 2, perRound: 100 } : { warmUp: 3_000, timedRounds: 20, profiledRounds: 6, perRound: 200 };

/** Each contender's client answers through its own handler; the endpoint is never dialled. */
const handlers = perContender(() => answeringHandler());
const clients = perContender((contender) => localDynamoDBClient('http://127.0.0.1:9', { requestHandler: handlers[contender].handler }));
const contenders = dynamodbContenders(
  clients,
  perContender((contender) => `client-${contender}`),
  perContender((contender) => countDynamoDB(clients[contender])),
);

async function newEvents(contender: Contender, count: number): Promise<void> {
  const events = Array.from({ length: count }, () => genesysEvent());
  for (const event of events) await contender.handle(event);
}

/** Rounds that alternate the contenders' order, so drift in the process lands on all of them. */
async function rounds(count: number, each: (contender: Contender) => Promise<void>): Promise<void> {
  for (let round = 0; round < count; round++) {
    for (const contender of round % 2 === 0 ? contenders : [...contenders].reverse()) await each(contender);
  }
}

for (const contender of contenders) await newEvents(contender, plan.warmUp);

const wall = new Map<string, number>();
const cpu = new Map<string, number>();
await rounds(plan.timedRounds, async (contender) => {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await newEvents(contender, plan.perRound);
  wall.set(contender.name, (wall.get(contender.name) ?? 0) + (performance.now() - started) * 1000);
  const used = process.cpuUsage(cpuBefore);
  cpu.set(contender.name, (cpu.get(contender.name) ?? 0) + used.user + used.system);
});

const profiler = new OwnerProfiler();
await profiler.start();
await rounds(plan.profiledRounds, (contender) => profiler.window(contender.name, () => newEvents(contender, plan.perRound)));
profiler.stop();

const requests = Object.values(handlers).reduce((sum, handler) => sum + handler.answered, 0);
const events = 3 * (plan.warmUp + (plan.timedRounds + plan.profiledRounds) * plan.perRound);
if (requests !== 2 * events) throw new Error(`expected two requests per new event (${2 * events}), the handlers answered ${requests}`);

const timedEvents = plan.timedRounds * plan.perRound;
const profiledEvents = plan.profiledRounds * plan.perRound;
const idemkitWall = wall.get('idemkit')! / timedEvents;
const owners = OWNERS.filter((owner) => contenders.some((contender) => (profiler.of(contender.name).get(owner) ?? 0) > 0));
const rows = contenders.map((contender) => {
  const perEvent = wall.get(contender.name)! / timedEvents;
  const sampled = profiler.of(contender.name);
  // The profiler slows what it samples: its split is applied to the timed figure, not its own total.
  const sampledTotal = [...sampled.values()].reduce((sum, us) => sum + us, 0);
  return [
    contender.name,
    num(perEvent),
    num(cpu.get(contender.name)! / timedEvents),
    contender.name === 'idemkit' ? '' : `×${num(perEvent / idemkitWall, 2)}`,
    ...owners.map((owner) => num((perEvent * (sampled.get(owner) ?? 0)) / sampledTotal)),
  ];
});
console.log(
  `DynamoDB client work per new event (claim + completion, answered in process): ${timedEvents} timed and ${profiledEvents} profiled events per contender, interleaved`,
);
console.log('The µs of each owner split the timed figure in the proportions of the profile\'s samples.');
console.log(textTable(['contender', 'µs / event', 'CPU µs / event', "its µs ÷ idemkit's", ...owners.map((owner) => `${owner} µs`)], rows));
for (const each of Object.values(clients)) each.destroy();
