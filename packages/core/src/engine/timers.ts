import type { Sleep } from './options.js';

/**
 * The engine's real sleep, on the global timers. `ref: false` for timers beside work that keeps
 * the process busy on its own (a heartbeat beside its handler), which must never be what keeps a
 * process from exiting; `ref: true` for a sleep the caller awaits (a waiting duplicate).
 */
export function realSleep(ref: boolean): Sleep {
  return (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      if (!ref) timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
}
