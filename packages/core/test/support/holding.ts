import { gate } from './stores.js';

/**
 * A handler that answers at once, except for the events `isHeld` picks: those start, then wait
 * until `release()` — a run held open at a known point, without sleeping.
 */
export function holding<TEvent, TResult>(isHeld: (event: TEvent) => boolean, result: (event: TEvent) => TResult) {
  const hold = gate();
  const started = gate();
  return {
    fn: async (event: TEvent): Promise<TResult> => {
      if (isHeld(event)) {
        started.open();
        await hold.promise;
      }
      return result(event);
    },
    /** Resolves once a held event has started. */
    started: started.promise,
    release: () => hold.open(),
  };
}
