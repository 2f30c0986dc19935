// Sample sequences for the XOR chunk tests (fast-check generators), shared by the chunk encoding
// tests and the head's chunk memory tests.
import fc from 'fast-check';
import { STALE_NAN_BITS, floatToBits } from '../src/tsdb/chunkenc/index.js';

// Samples in tests carry the value as its 64-bit pattern: a NaN payload must not pass through a JS
// array of numbers (V8 may canonicalize NaNs stored in double arrays), only through arguments.
export interface Sample {
  t: bigint;
  v: bigint;
}

export const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export const SPECIAL_VALUES: readonly bigint[] = [
  STALE_NAN_BITS,
  0x7ff8000000000000n, // the NaN Go's math.NaN() returns
  0x7ff8000000000001n, // quiet NaN with a payload
  0x7ff0000000000001n, // signalling NaN, smallest payload
  0xfff8000000000000n, // negative quiet NaN
  0xffffffffffffffffn, // all ones (a NaN)
  0x7ff0000000000000n, // +Inf
  0xfff0000000000000n, // -Inf
  0x8000000000000000n, // -0
  0x0000000000000000n, // +0
  0x0000000000000001n, // smallest subnormal
  0x3ff0000000000000n, // 1
  0x7fefffffffffffffn, // largest finite
];

export const valueBits: fc.Arbitrary<bigint> = fc.oneof(
  { arbitrary: fc.constantFrom(...SPECIAL_VALUES), weight: 3 },
  { arbitrary: fc.bigInt(0n, (1n << 64n) - 1n), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 5000 }).map((i) => floatToBits(i * 0.5)), weight: 3 },
  { arbitrary: fc.double().map(floatToBits), weight: 2 },
);

export const tsStep: fc.Arbitrary<bigint> = fc.oneof(
  { arbitrary: fc.constant(0n), weight: 2 }, // equal timestamps
  { arbitrary: fc.bigInt(-3n, 3n), weight: 2 },
  { arbitrary: fc.bigInt(14_000n, 16_000n), weight: 5 }, // 15s scrapes with jitter
  { arbitrary: fc.bigInt(-(1n << 21n), 1n << 21n), weight: 2 }, // every dod bucket
  { arbitrary: fc.bigInt(-(1n << 55n), 1n << 55n), weight: 1 }, // beyond 2^53
);

export const firstT: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt(1_600_000_000_000n, 1_800_000_000_000n),
  fc.constantFrom(0n, -1n, MAX_SAFE, -MAX_SAFE, 1n << 52n, -(1n << 52n)),
  fc.bigInt(-MAX_SAFE, MAX_SAFE),
);

function clampSafe(x: bigint): bigint {
  return x > MAX_SAFE ? MAX_SAFE : x < -MAX_SAFE ? -MAX_SAFE : x;
}

/** Sample sequences: timestamps as a walk of mixed steps (or independent), values with repeats. */
export function samplesArb(minLength: number, maxLength: number): fc.Arbitrary<Sample[]> {
  const walk = fc
    .tuple(firstT, fc.array(fc.tuple(tsStep, fc.option(valueBits, { freq: 3, nil: undefined })), { minLength, maxLength, size: 'max' }))
    .map(([t0, steps]) => {
      const out: Sample[] = [];
      let t = t0;
      let v = 0n;
      steps.forEach(([step, nv], i) => {
        t = i === 0 ? t : clampSafe(t + step);
        v = nv ?? v; // undefined: repeat the previous value
        out.push({ t, v });
      });
      return out;
    });
  const scattered = fc
    .array(fc.tuple(fc.bigInt(-MAX_SAFE, MAX_SAFE), valueBits), { minLength, maxLength, size: 'max' })
    .map((pairs) => pairs.map(([t, v]): Sample => ({ t, v })));
  return fc.oneof({ arbitrary: walk, weight: 4 }, { arbitrary: scattered, weight: 1 });
}

/**
 * fast-check options: fixed seed; the time limit bounds a failing run's shrinking (the failure
 * is still reported, with the smallest case found so far) so a broken build fails in seconds.
 */
export function runs(seed: number, numRuns: number): fc.Parameters<unknown> {
  return { seed, numRuns, plugins: [fc.interruptAfterTimeLimit(3000)] };
}

