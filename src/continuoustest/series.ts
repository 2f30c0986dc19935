// The synthetic series and their values. Series i is
//
//   muninn_continuous_test_sample_v1{series_id="<i>"}
//
// and its value at time t (ms) is a pure function of (i, t), so a reader can check any sample it
// gets back exactly, bit for bit, without remembering what was written:
//
// - even i: a sine wave over 10 minutes (Mimir's period) shifted by i radians, plus 2 (as Mimir's
//   sine wave): values in [1, 3] with full 52-bit mantissas, the hard case for XOR chunks;
// - odd i: a counter-like line, t in seconds plus i: it grows by the interval every sample.
//
// Mimir writes the same value to every series and checks sum(); here every series differs, so a
// sample landing in the wrong series, or at the wrong timestamp, is caught too. The "_v1" suffix
// is the version of the function: change the function, change the name (old data would not match).
//
// Series are queried in groups of GROUP_SIZE consecutive ids, selected with a regular expression
// on series_id (group g >= 1 holds ids g00..g99: `g[0-9][0-9]`), so no extra label is needed.

export const METRIC_NAME = 'muninn_continuous_test_sample_v1';
export const SERIES_ID_LABEL = 'series_id';
export const GROUP_SIZE = 100;

const SINE_PERIOD_MS = 600_000;

/** The value series `id` has at time `t` (ms since the epoch, t >= 0). */
export function sampleValue(id: number, t: number): number {
  if (id % 2 === 0) {
    const phase = (t % SINE_PERIOD_MS) / SINE_PERIOD_MS;
    return Math.sin(2 * Math.PI * phase + id) + 2;
  }
  return t / 1000 + id;
}

/** The flat label list of series `id` (sorted by name). */
export function seriesLabels(id: number): [string, string, string, string] {
  return ['__name__', METRIC_NAME, SERIES_ID_LABEL, String(id)];
}

export function groupCount(numSeries: number): number {
  return Math.ceil(numSeries / GROUP_SIZE);
}

/** The regular expression matching the series ids of group g. */
function groupRegex(g: number): string {
  return g === 0 ? '[0-9]|[1-9][0-9]' : `${g}[0-9][0-9]`;
}

/** A selector for the series of groups [gLo, gHi). */
export function groupsSelector(gLo: number, gHi: number): string {
  const parts: string[] = [];
  for (let g = gLo; g < gHi; g++) parts.push(groupRegex(g));
  return `${METRIC_NAME}{${SERIES_ID_LABEL}=~"${parts.join('|')}"}`;
}

/** The series id range [lo, hi) of groups [gLo, gHi), clipped to the configured series. */
export function groupsSeries(gLo: number, gHi: number, numSeries: number): [number, number] {
  return [Math.min(gLo * GROUP_SIZE, numSeries), Math.min(gHi * GROUP_SIZE, numSeries)];
}

/** The series id of a series_id label value, or -1 when it is not a canonical non-negative integer. */
export function parseSeriesId(v: string | undefined): number {
  if (v === undefined || !/^(0|[1-9][0-9]{0,8})$/.test(v)) return -1;
  return Number(v);
}

/** t rounded down to a multiple of step. */
export function alignDown(t: number, step: number): number {
  return Math.floor(t / step) * step;
}
