// Lambda's part, for a bundle: load it like the Node.js runtime does (import for .mjs, require for
// .cjs), call `handler(event, context)` per event in order, and print what each delivery gave as
// one JSON line. The runtime freezes the process between invocations instead of waiting for it
// to go idle, so this exits once the line is written.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [file, input] = process.argv.slice(2);
const { events, functionName } = JSON.parse(input);
const context = { functionName, awsRequestId: 'bundle-test', getRemainingTimeInMillis: () => 30_000 };
const describe = (error) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

async function deliver(module) {
  const deliveries = [];
  for (const event of events) {
    try {
      deliveries.push({ result: (await module.handler(event, context)) ?? null });
    } catch (error) {
      deliveries.push({ error: describe(error) });
    }
  }
  return deliveries;
}

let module;
let output;
try {
  module = file.endsWith('.cjs') ? createRequire(import.meta.url)(file) : await import(pathToFileURL(file).href);
} catch (error) {
  output = { deliveries: [], loadError: describe(error) }; // Lambda's Runtime.ImportModuleError
}
output ??= { deliveries: await deliver(module) };
process.stdout.write(`${JSON.stringify(output)}\n`, () => process.exit(0));
