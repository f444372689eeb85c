import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { TestProject } from 'vitest/node';

// Starts AWS DynamoDB Local (the jar shipped in amplify-dynamodb-simulator) in memory on a free
// loopback port for this test project, unless DYNAMODB_ENDPOINT points at a running one.

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the DynamoDB endpoint the tests talk to. */
    dynamodbEndpoint: string;
  }
}

const STARTUP_TIMEOUT_MS = 90_000;

const NO_JAVA =
  'DynamoDB Local needs Java 17 or later, and `java` is not on the PATH. Install a JRE ' +
  '(e.g. `apt-get install openjdk-17-jre-headless` or `brew install openjdk@17`), ' +
  'or set DYNAMODB_ENDPOINT to a running DynamoDB Local.';

// Runs java and stops it when our end of the wrapper's stdin closes: at teardown, and also when
// the test runner dies without teardown (a signal, SIGKILL), because the OS closes the pipe then.
// Afterwards it removes its work folder (DynamoDB Local's metadata file) for the same reason.
const WATCHDOG = [
  'exec 3<&0',
  'java "$@" & pid=$!',
  '(read -r _ <&3; kill "$pid" 2>/dev/null) &',
  'wait "$pid"; code=$?',
  'cd / && [ -n "$IDEMKIT_WORK_DIR" ] && rm -rf "$IDEMKIT_WORK_DIR"',
  'exit $code',
].join('\n');

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.DYNAMODB_ENDPOINT;
  if (external !== undefined && external !== '') {
    await waitUntilAnswering(external, () => false);
    project.provide('dynamodbEndpoint', external);
    return undefined;
  }
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).error !== undefined) throw new Error(NO_JAVA);

  const emulator = emulatorFolder();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // DynamoDB Local writes a metadata file into its working directory; keep it out of the repo.
  const workDir = mkdtempSync(join(tmpdir(), 'idemkit-dynamodb-local-'));
  const javaArgs = [
    `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(emulator, 'DynamoDBLocal.jar'),
    '-inMemory',
    '-disableTelemetry',
    '-port',
    String(port),
  ];
  const options = { cwd: workDir, env: { ...process.env, DDB_LOCAL_TELEMETRY: '0', IDEMKIT_WORK_DIR: workDir }, stdio: 'pipe' as const };
  const server =
    process.platform === 'win32'
      ? spawn('java', javaArgs, options)
      : spawn('sh', ['-c', WATCHDOG, 'dynamodb-local', ...javaArgs], options);

  const output: string[] = [];
  server.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  server.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<never>((_, reject) => {
    server.once('error', reject);
    server.once('exit', (code) => reject(new Error(`DynamoDB Local exited with code ${code}:\n${output.join('')}`)));
  });
  exited.catch(() => undefined);
  try {
    await Promise.race([waitUntilAnswering(endpoint, () => server.exitCode !== null), exited]);
  } catch (error) {
    await stop(server, workDir);
    throw error;
  }
  project.provide('dynamodbEndpoint', endpoint);
  return () => stop(server, workDir);
}

function emulatorFolder(): string {
  const require = createRequire(import.meta.url);
  const folder = join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  if (!existsSync(join(folder, 'DynamoDBLocal.jar'))) {
    throw new Error(`DynamoDB Local jar not found in ${folder}; reinstall amplify-dynamodb-simulator`);
  }
  return folder;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/** Polls ListTables until the endpoint answers; gives up when `gaveUp()` says so or on timeout. */
async function waitUntilAnswering(endpoint: string, gaveUp: () => boolean): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'idemkit', secretAccessKey: 'idemkit' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let lastError: unknown;
  try {
    while (Date.now() < deadline && !gaveUp()) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        lastError = error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.destroy();
  }
  throw new Error(`DynamoDB at ${endpoint} did not answer ListTables within ${STARTUP_TIMEOUT_MS} ms`, { cause: lastError });
}

/** Closes the watchdog's stdin (it stops java), waits for the exit, and removes the work folder. */
async function stop(server: ChildProcess, workDir: string): Promise<void> {
  if (server.exitCode === null && server.signalCode === null) {
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    server.stdin?.end();
    if (process.platform === 'win32') server.kill();
    const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  server.stdin?.destroy();
  rmSync(workDir, { recursive: true, force: true });
}
