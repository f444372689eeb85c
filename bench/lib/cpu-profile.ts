// Where a process spent its CPU, from V8's sampling profiler (node:inspector), by who owns the
// code that ran: the AWS SDK, idemkit, Powertools, Node.js itself, V8 and native bindings (the
// microtask queue, crypto: SigV4 signing), the garbage collector.
// Profiles of several windows add up, so contenders interleaved in one process each get their own.
import { Session } from 'node:inspector/promises';

/** Who owns a sampled frame. */
export type Owner = 'AWS SDK' | 'idemkit' | 'Powertools' | 'Node.js' | 'V8 and native' | 'garbage collector' | 'bench' | 'other packages';

export const OWNERS: readonly Owner[] = ['AWS SDK', 'idemkit', 'Powertools', 'Node.js', 'V8 and native', 'garbage collector', 'bench', 'other packages'];

/** The owner of a frame, from its script URL and function name (V8's own entries have no URL). */
export function ownerOf(url: string, functionName: string): Owner {
  if (url === '') return functionName === '(garbage collector)' ? 'garbage collector' : 'V8 and native';
  if (/\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?@(smithy|aws-sdk|aws-crypto|aws)\//.test(url)) return 'AWS SDK';
  if (/\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?@aws-lambda-powertools\//.test(url)) return 'Powertools';
  if (/\/packages\/[^/]+\/(dist|src)\//.test(url) || /\/node_modules\/@idemkit\//.test(url)) return 'idemkit';
  if (url.startsWith('node:')) return 'Node.js';
  if (/\/bench\//.test(url) && !url.includes('/node_modules/')) return 'bench';
  return 'other packages';
}

interface Profile {
  nodes: Array<{ id: number; callFrame: { url: string; functionName: string } }>;
  samples?: number[];
  timeDeltas?: number[];
}

/** Microseconds of samples per owner; `(idle)` and `(program)` are left out (not the code's work). */
export function ownersOf(profile: Profile): Map<Owner, number> {
  const owners = new Map<number, Owner | undefined>();
  for (const node of profile.nodes) {
    const { url, functionName } = node.callFrame;
    owners.set(node.id, functionName === '(idle)' || functionName === '(program)' ? undefined : ownerOf(url, functionName));
  }
  const totals = new Map<Owner, number>();
  const samples = profile.samples ?? [];
  for (let i = 0; i < samples.length; i++) {
    const owner = owners.get(samples[i]!);
    if (owner !== undefined) totals.set(owner, (totals.get(owner) ?? 0) + (profile.timeDeltas?.[i] ?? 0));
  }
  return totals;
}

/** Profiles windows of this process's work and adds up each window's owners under a label. */
export class OwnerProfiler {
  private readonly session = new Session();
  private readonly totals = new Map<string, Map<Owner, number>>();

  async start(): Promise<void> {
    this.session.connect();
    await this.session.post('Profiler.enable');
    // 100 µs between samples: a new event costs the client a millisecond or more.
    await this.session.post('Profiler.setSamplingInterval', { interval: 100 });
  }

  /** Runs `work` under the profiler and adds its samples to `label`'s. */
  async window<T>(label: string, work: () => Promise<T>): Promise<T> {
    await this.session.post('Profiler.start');
    let result: T;
    try {
      result = await work();
    } finally {
      const { profile } = await this.session.post('Profiler.stop');
      const into = this.totals.get(label) ?? new Map<Owner, number>();
      for (const [owner, us] of ownersOf(profile as Profile)) into.set(owner, (into.get(owner) ?? 0) + us);
      this.totals.set(label, into);
    }
    return result;
  }

  /** µs of samples per owner, for `label`. */
  of(label: string): Map<Owner, number> {
    return this.totals.get(label) ?? new Map();
  }

  stop(): void {
    this.session.disconnect();
  }
}
