// Compensated float summation as Prometheus does it (util/kahansum), shared by the engine's
// aggregations, the functions (sum/avg/stddev_over_time, regressions) and the histogram sums.

/**
 * One step of Kahan-Babuška (Neumaier) summation, Prometheus's kahansum.Inc: returns the new sum
 * and compensation; the total is their sum. The compensation is reset when the sum becomes
 * infinite.
 */
export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (t === Infinity || t === -Infinity) c = 0;
  else if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}
