import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { forkTs } from '../lib/tsx-child.js';
import type { CoordinatorMessage, WorkerConfig, WorkerMessage } from './types.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/**
 * The worker processes of one run: starts them, kills the one that asks (it is inside a handler
 * planned to die), and starts a replacement for every worker that dies, as Lambda starts a new
 * instance. Counters sent by workers are summed here, so a killed worker's counts survive it.
 */
export class WorkerPool {
  readonly counters: Record<string, number> = {};
  kills = 0;
  private readonly children = new Map<ChildProcess, string>();
  private readonly killed = new Set<ChildProcess>();
  private spawned = 0;
  private stopping = false;

  constructor(
    private readonly configFor: (worker: string) => WorkerConfig,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts `count` workers and resolves once each is connected and ready. */
  async start(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.spawn()));
  }

  /** Asks every worker to finish its delivery and exit; kills the ones that do not within 5 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    const exits = [...this.children.keys()].map((child) => {
      const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      if (child.connected) child.send({ type: 'stop' } satisfies CoordinatorMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      return exited.finally(() => clearTimeout(timer));
    });
    await Promise.all(exits);
  }

  private bump(name: string): void {
    this.counters[name] = (this.counters[name] ?? 0) + 1;
  }

  private spawn(): Promise<void> {
    const name = `w${++this.spawned}`;
    const child = forkTs(WORKER, [], {
      // Six copies of the AWS SDK's Node 20 deprecation notice per run would bury the harness's own output.
      env: { FAULTS_WORKER: JSON.stringify(this.configFor(name)), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.children.set(child, name);
    return new Promise((resolve, reject) => {
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'count') this.bump(message.name);
        else if (message.type === 'kill-me') {
          this.killed.add(child);
          this.kills += 1;
          this.log(`SIGKILL ${name} inside the handler of logical event ${message.logicalId}`);
          child.kill('SIGKILL');
        }
      });
      child.once('exit', (code, signal) => {
        this.children.delete(child);
        if (this.stopping) return;
        if (!this.killed.has(child)) {
          this.bump('unexpected worker exit');
          this.log(`worker ${name} exited on its own (code ${code}, signal ${signal})`);
          reject(new Error(`worker ${name} exited before it was ready (code ${code})`));
        }
        if ((this.counters['unexpected worker exit'] ?? 0) > 10) return; // something is broken; do not spin
        // A replacement, as Lambda starts a new instance; the killed one's delivery reappears after its timeout.
        this.spawn().catch((error: Error) => this.log(`could not restart a worker: ${error.message}`));
      });
    });
  }
}
