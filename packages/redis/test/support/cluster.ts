import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { findFreePorts } from './ports.js';

/** A throwaway Redis Cluster on loopback, owned by this test run. */
export interface LocalCluster {
  ports: number[];
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
const HOW_TO_INSTALL = 'install Redis ≥ 6 (redis-server and redis-cli on PATH, e.g. `apt-get install redis-server`)';

/**
 * Starts `nodes` masters with `redis-server --cluster-enabled yes` (spawned, not daemonised, so
 * stop() can kill them), joins them with `redis-cli --cluster create`, and waits until every node
 * reports `cluster_state:ok`. On any failure the processes already started are killed.
 */
export async function startCluster(nodes = 3): Promise<LocalCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'idemkit-redis-cluster-'));
  const processes: ChildProcess[] = [];
  const killAll = () => processes.forEach((child) => child.exitCode === null && child.kill('SIGKILL'));
  process.once('exit', killAll);
  const stop = async () => {
    await Promise.all(processes.map(terminate));
    process.off('exit', killAll);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports = await findFreePorts(nodes, true);
    await Promise.all(ports.map((port) => startNode(port, dir, processes)));
    await run('redis-cli', [
      '--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas', '0', '--cluster-yes',
    ]);
    await Promise.all(ports.map((port) => waitUntilClusterOk(port, nodes)));
    return { ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function startNode(port: number, dir: string, processes: ChildProcess[]): Promise<void> {
  const child = spawn(
    'redis-server',
    [
      '--port', String(port), '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout', '5000', '--dir', dir,
      '--save', '', '--appendonly', 'no', '--daemonize', 'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  processes.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (error) => reject(new Error(`cannot start redis-server: ${error.message}; ${HOW_TO_INSTALL}`)));
    child.once('exit', (code) => reject(new Error(`redis-server on port ${port} exited with ${code}:\n${output}`)));
  });
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}; ${HOW_TO_INSTALL}`)));
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`)),
    );
  });
}

/** Polls CLUSTER INFO until the node sees all slots served by all nodes. */
async function waitUntilClusterOk(port: number, nodes: number): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  const deadline = Date.now() + START_TIMEOUT_MS;
  let info = '';
  try {
    await client.connect();
    while (Date.now() < deadline) {
      info = await client.cluster('INFO');
      if (info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${nodes}`)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`cluster node ${port} never reached cluster_state:ok:\n${info}`);
  } finally {
    client.disconnect();
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
