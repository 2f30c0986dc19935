// Counter reset hints of combined histograms.
import { CounterResetHint } from './types.js';

/**
 * The counter reset hint of a sum or difference of histograms hinted a and b (Prometheus
 * adjustCounterReset): equal hints stay; with a gauge the result is a gauge; otherwise with an
 * Unknown it is Unknown; CounterReset with NotCounterReset is a collision, giving Unknown.
 */
export function combineCounterResetHints(a: number, b: number): { hint: number; collision: boolean } {
  if (a === b || a === CounterResetHint.Gauge) return { hint: a, collision: false };
  if (b === CounterResetHint.Gauge) return { hint: CounterResetHint.Gauge, collision: false };
  if (a === CounterResetHint.Unknown || b === CounterResetHint.Unknown) return { hint: CounterResetHint.Unknown, collision: false };
  return { hint: CounterResetHint.Unknown, collision: true };
}
