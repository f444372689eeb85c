/**
 * Releases every waiter at once when `parties` have arrived: lines up concurrent callers
 * for a race without sleeping.
 */
export function createBarrier(parties: number): { wait(): Promise<void> } {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    wait() {
      arrived += 1;
      if (arrived >= parties) open();
      return opened;
    },
  };
}
