// What a store holds per completed key, measured on the records the contenders wrote during the run.

/** One contender's storage cost per completed key on one store. */
export interface StorageFigure {
  contender: string;
  /** Records the figure was measured on. */
  sampled: number;
  bytesPerKey: number;
  /** How it was measured, one short phrase for the table. */
  method: string;
}

/** The key count the figures are extrapolated to. */
export const EXTRAPOLATED_KEYS = 1_000_000;
