import { readFileSync } from 'node:fs';
import { main } from './cli/main.js';

// The bin is built next to package.json's dist/: its version is the package's.
function version(): string | undefined {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

process.exitCode = await main(process.argv.slice(2), process, { version: version() ?? 'unknown' });
