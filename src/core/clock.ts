/** Time as an input: domain code takes a Clock so tests can fix it. Epoch seconds, as AWS's JSON wire uses. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() / 1000 };
