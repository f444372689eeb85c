// A script or test that uses a store URL must end by itself once its work is done: the clients
// idemkit opens for URLs hold the process only while a call is in flight. Each case runs a child
// process that handles one delivery and never closes its store, and requires it to exit well
// before any idle timeout of the drivers' own (pg's is 10 s) would have let it go.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const EXIT_DEADLINE_MS = 8_000;
const fixture = fileURLToPath(new URL('./fixtures/one-delivery.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs the fixture; resolves with its output once it exits, rejects if it is still running at the deadline. */
function runToExit(url: string, env: Record<string, string> = {}): Promise<{ output: unknown; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', tsx, fixture, url, `exit-${randomUUID().slice(0, 8)}`],
      {
        cwd: root,
        timeout: EXIT_DEADLINE_MS,
        killSignal: 'SIGKILL',
        env: { PATH: process.env.PATH ?? '', TSX_TSCONFIG_PATH: `${root}tsconfig.json`, ...env },
      },
      (error, stdout, stderr) => {
        if (error !== null) {
          const why = error.killed ? `still running after ${EXIT_DEADLINE_MS} ms` : `failed: ${error.message}`;
          reject(new Error(`the script ${why}\nstdout: ${stdout}\nstderr: ${stderr}`));
          return;
        }
        resolve({ output: JSON.parse(stdout.trim().split('\n').at(-1)!), ms: Date.now() - started });
      },
    );
  });
}

// DynamoDB Local is not started for this project; this answers like it does for a missing table,
// over a keep-alive connection, which is what could hold the process.
let dynamodb: Server;
beforeAll(async () => {
  dynamodb = createServer((request, response) => {
    request.resume().on('end', () => {
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', connection: 'keep-alive' });
      response.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'Requested resource not found' }));
    });
  });
  dynamodb.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => dynamodb.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => dynamodb.close(() => resolve())));

describe('a script using a store URL exits once idle, without closeSharedStores()', () => {
  it('memory:', async () => {
    expect((await runToExit('memory:')).output).toEqual({ handled: 'e-1' });
  });

  it('redis:// on the real Redis', async () => {
    const url = `${inject('redisUrl')}?prefix=${inject('redisPrefix')}:exit`;
    expect((await runToExit(url)).output).toEqual({ handled: 'e-1' });
  });

  it('postgres:// on the real PostgreSQL', async () => {
    const url = `${inject('databaseUrl')}?schema=${inject('pgSchema')}&migrate=true`;
    expect((await runToExit(url)).output).toEqual({ handled: 'e-1' });
  });

  it('dynamodb:// after its call failed, with the connection kept alive', async () => {
    const { port } = dynamodb.address() as AddressInfo;
    const url = `dynamodb://missing-table?region=us-east-1&endpoint=http://127.0.0.1:${port}`;
    const env = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: 'true' };
    expect((await runToExit(url, env)).output).toEqual({ error: 'IdempotencyStoreError' });
  });
});
