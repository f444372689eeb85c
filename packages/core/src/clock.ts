/** Source of the current time in epoch milliseconds; injectable so expiry is testable without sleeping. */
export type Clock = () => number;

/** The wall clock. */
export const systemClock: Clock = () => Date.now();
