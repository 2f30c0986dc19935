// Distributor validation of decoded remote-write requests (src/distributor/validate.ts): every
// rule at its boundary (at the limit passes, one over fails), for 1.0 and 2.0 bodies; the first
// error wins while valid series are kept; labels sorted and empty values dropped; invalid UTF-8;
// timestamps; exemplars dropped silently; metadata; and 10,000 mutated bodies through decode +
// validate, which must end in "ok" or a bad_data MuninnError and nothing else.
import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultsOf } from '../../src/config/index.js';
import {
  DiscardReason,
  ErrorId,
  ingestionItems,
  validateWriteRequest,
  validationConfig,
  ValidationError,
  type ValidationLimits,
  type ValidationResult,
} from '../../src/distributor/index.js';
import { MuninnError } from '../../src/errors/index.js';
import {
  type DecodedWriteRequest,
  decodeWriteRequest,
  decodeWriteRequestV2,
  encodeWriteRequest,
  encodeWriteRequestV2,
  labelsOf,
  metadataOf,
  type SeriesObject,
  STALE_NAN_BITS,
  type WriteRequestObject,
} from '../../src/remotewrite/index.js';
import { mulberry32 } from '../util.js';

const NOW = 1_700_000_000_000;
const MIN = 60_000;
const DEFAULTS: ValidationLimits = { ...defaultsOf({ v: validationConfig }).v, outOfOrderTimeWindow: 0 };
type V = 1 | 2;
const VERSIONS: V[] = [1, 2];

const encode = (v: V, o: WriteRequestObject): Uint8Array => (v === 1 ? encodeWriteRequest(o) : encodeWriteRequestV2(o));
const decode = (v: V, b: Uint8Array): DecodedWriteRequest => (v === 1 ? decodeWriteRequest(b) : decodeWriteRequestV2(b));

/** Replaces the (unique) ASCII placeholder in body with raw bytes of the same length. */
function patch(body: Uint8Array, placeholder: string, bytes: number[]): Uint8Array {
  assert.equal(placeholder.length, bytes.length);
  const at = Buffer.from(body).indexOf(placeholder);
  assert.ok(at >= 0, `placeholder ${placeholder} not in body`);
  const out = Uint8Array.from(body);
  out.set(bytes, at);
  return out;
}

function run(v: V, o: WriteRequestObject, limits: Partial<ValidationLimits> = {}, raw?: (b: Uint8Array) => Uint8Array): { req: DecodedWriteRequest; res: ValidationResult } {
  let body = encode(v, o);
  if (raw !== undefined) body = raw(body);
  const req = decode(v, body);
  const res = validateWriteRequest(req, { ...DEFAULTS, ...limits }, NOW);
  return { req, res };
}

const sample = (timestamp = NOW, value: number | bigint = 1): { value: number | bigint; timestamp: number } => ({ value, timestamp });
const series = (labels: string[], samples = [sample()]): SeriesObject => ({ labels, samples });
const many = (n: number, prefix = 'l'): string[] => Array.from({ length: n }, (_, k) => [`${prefix}${String(k).padStart(4, '0')}`, 'v']).flat();

interface Case {
  name: string;
  labels: string[];
  samples?: Array<{ value: number | bigint; timestamp: number }>;
  limits?: Partial<ValidationLimits>;
  /** error ID expected, or null for a kept series */
  err: ErrorId | null;
  /** a flag the message must name */
  flag?: string;
  /** raw bytes for the placeholder in labels */
  raw?: [string, number[]];
}

const CASES: Case[] = [
  { name: 'valid', labels: ['__name__', 'up', 'job', 'x'], err: null },
  { name: 'no metric name', labels: ['job', 'x'], err: ErrorId.missingMetricName },
  { name: 'empty label set', labels: [], err: ErrorId.missingMetricName },
  { name: 'empty metric name (empty values are dropped)', labels: ['__name__', '', 'job', 'x'], err: ErrorId.missingMetricName },
  { name: 'empty label value is dropped, not an error', labels: ['__name__', 'up', 'job', ''], err: null },
  { name: 'legacy metric name with a dot', labels: ['__name__', 'http.requests'], err: ErrorId.invalidMetricName },
  { name: 'utf8 metric name with a dot and a space', labels: ['__name__', 'http requests.total'], limits: { nameValidationScheme: 'utf8' }, err: null },
  { name: 'legacy metric name starting with a digit', labels: ['__name__', '1up'], err: ErrorId.invalidMetricName },
  { name: 'legacy metric name with colons', labels: ['__name__', ':job:rate5m'], err: null },
  { name: 'legacy label name with a dash', labels: ['__name__', 'up', 'a-b', 'x'], err: ErrorId.invalidLabel },
  { name: 'legacy label name with a colon', labels: ['__name__', 'up', 'a:b', 'x'], err: ErrorId.invalidLabel },
  { name: 'legacy label name starting with a digit', labels: ['__name__', 'up', '1a', 'x'], err: ErrorId.invalidLabel },
  { name: 'label name starting with underscore', labels: ['__name__', 'up', '_a', 'x'], err: null },
  { name: 'empty label name with a value', labels: ['__name__', 'up', '', 'x'], err: ErrorId.invalidLabel },
  { name: 'utf8 label name', labels: ['__name__', 'up', 'ключ.имя x', 'x'], limits: { nameValidationScheme: 'utf8' }, err: null },
  { name: 'utf8 scheme: empty label name', labels: ['__name__', 'up', '', 'x'], limits: { nameValidationScheme: 'utf8' }, err: ErrorId.invalidLabel },
  { name: 'label value with a newline', labels: ['__name__', 'up', 'a', 'line1\nline2'], err: null },
  { name: 'label name of 1024 bytes', labels: ['__name__', 'up', 'n'.repeat(1024), 'x'], err: null },
  { name: 'label name of 1025 bytes', labels: ['__name__', 'up', 'n'.repeat(1025), 'x'], err: ErrorId.labelNameTooLong, flag: '-validation.max-length-label-name' },
  { name: 'label value of 2048 bytes', labels: ['__name__', 'up', 'a', 'v'.repeat(2048)], err: null },
  { name: 'label value of 2049 bytes', labels: ['__name__', 'up', 'a', 'v'.repeat(2049)], err: ErrorId.labelValueTooLong, flag: '-validation.max-length-label-value' },
  { name: 'label value of 1024 two-byte chars (2048 bytes)', labels: ['__name__', 'up', 'a', 'é'.repeat(1024)], err: null },
  { name: 'label value of 1025 two-byte chars (2050 bytes: bytes count, not chars)', labels: ['__name__', 'up', 'a', 'é'.repeat(1025)], err: ErrorId.labelValueTooLong },
  { name: 'metric name over the value length', labels: ['__name__', 'm'.repeat(2049)], err: ErrorId.labelValueTooLong },
  { name: 'lower value limit', labels: ['__name__', 'up', 'a', 'abcd'], limits: { maxLabelValueLength: 3 }, err: ErrorId.labelValueTooLong },
  { name: '30 labels (with the name)', labels: ['__name__', 'up', ...many(29)], err: null },
  { name: '31 labels', labels: ['__name__', 'up', ...many(30)], err: ErrorId.maxLabelNamesPerSeries, flag: '-validation.max-label-names-per-series' },
  { name: 'info series with 31 labels', labels: ['__name__', 'target_info', ...many(30)], err: null },
  { name: 'info series with 80 labels', labels: ['__name__', 'target_info', ...many(79)], err: null },
  { name: 'info series with 81 labels', labels: ['__name__', 'target_info', ...many(80)], err: ErrorId.maxLabelNamesPerInfoSeries, flag: '-validation.max-label-names-per-info-series' },
  { name: '1000 labels', labels: ['__name__', 'up', ...many(999)], err: ErrorId.maxLabelNamesPerSeries },
  { name: '1000 labels, limit 1000', labels: ['__name__', 'up', ...many(999)], limits: { maxLabelNamesPerSeries: 1000 }, err: null },
  { name: '1000 labels, limit 999', labels: ['__name__', 'up', ...many(999)], limits: { maxLabelNamesPerSeries: 999 }, err: ErrorId.maxLabelNamesPerSeries },
  { name: 'repeated label name', labels: ['__name__', 'up', 'a', '1', 'a', '2'], err: ErrorId.duplicateLabelNames },
  { name: 'repeated label name, unsorted', labels: ['a', '1', '__name__', 'up', 'a', '2'], err: ErrorId.duplicateLabelNames },
  { name: 'unsorted labels are sorted, not refused', labels: ['z', '1', '__name__', 'up', 'a', '2'], err: null },
  { name: 'valid multi-byte value', labels: ['__name__', 'up', 'a', 'é€😀'], err: null },
  { name: 'value byte 0xff', labels: ['__name__', 'up', 'a', 'QQ'], raw: ['QQ', [0x61, 0xff]], err: ErrorId.invalidLabelValue },
  { name: 'value with overlong C0 80', labels: ['__name__', 'up', 'a', 'QQ'], raw: ['QQ', [0xc0, 0x80]], err: ErrorId.invalidLabelValue },
  { name: 'value with a surrogate ED A0 80', labels: ['__name__', 'up', 'a', 'QQQ'], raw: ['QQQ', [0xed, 0xa0, 0x80]], err: ErrorId.invalidLabelValue },
  { name: 'value above U+10FFFF', labels: ['__name__', 'up', 'a', 'QQQQ'], raw: ['QQQQ', [0xf4, 0x90, 0x80, 0x80]], err: ErrorId.invalidLabelValue },
  { name: 'value with a truncated sequence', labels: ['__name__', 'up', 'a', 'QQQ'], raw: ['QQQ', [0x61, 0xe2, 0x82]], err: ErrorId.invalidLabelValue },
  { name: 'value with a stray continuation byte', labels: ['__name__', 'up', 'a', 'QQ'], raw: ['QQ', [0x80, 0x61]], err: ErrorId.invalidLabelValue },
  { name: 'value with valid 4-byte F0 9F 98 80', labels: ['__name__', 'up', 'a', 'QQQQ'], raw: ['QQQQ', [0xf0, 0x9f, 0x98, 0x80]], err: null },
  { name: 'metric name with invalid UTF-8', labels: ['__name__', 'upQQ'], raw: ['QQ', [0xc3, 0x28]], err: ErrorId.invalidMetricName },
  { name: 'utf8 scheme: label name with invalid UTF-8', labels: ['__name__', 'up', 'aQQ', 'x'], raw: ['QQ', [0xc3, 0x28]], limits: { nameValidationScheme: 'utf8' }, err: ErrorId.invalidLabel },
  { name: 'sample at now + grace period', labels: ['__name__', 'up'], samples: [sample(NOW + 10 * MIN)], err: null },
  { name: 'sample 1 ms past now + grace period', labels: ['__name__', 'up'], samples: [sample(NOW + 10 * MIN + 1)], err: ErrorId.tooFarInFuture, flag: '-validation.create-grace-period' },
  { name: 'grace period 0: sample 1 ms ahead', labels: ['__name__', 'up'], samples: [sample(NOW + 1)], limits: { creationGracePeriod: 0 }, err: ErrorId.tooFarInFuture },
  { name: 'timestamp 0', labels: ['__name__', 'up'], samples: [sample(0)], err: null },
  { name: 'negative timestamp', labels: ['__name__', 'up'], samples: [sample(-1_000_000)], err: null },
  { name: 'past grace: at the bound', labels: ['__name__', 'up'], samples: [sample(NOW - 60 * MIN)], limits: { pastGracePeriod: 60 * MIN }, err: null },
  { name: 'past grace: 1 ms older', labels: ['__name__', 'up'], samples: [sample(NOW - 60 * MIN - 1)], limits: { pastGracePeriod: 60 * MIN }, err: ErrorId.tooFarInPast, flag: '-validation.past-grace-period' },
  { name: 'past grace + OOO window: at the bound', labels: ['__name__', 'up'], samples: [sample(NOW - 90 * MIN)], limits: { pastGracePeriod: 60 * MIN, outOfOrderTimeWindow: 30 * MIN }, err: null },
  { name: 'past grace + OOO window: 1 ms older', labels: ['__name__', 'up'], samples: [sample(NOW - 90 * MIN - 1)], limits: { pastGracePeriod: 60 * MIN, outOfOrderTimeWindow: 30 * MIN }, err: ErrorId.tooFarInPast },
  { name: 'past grace: timestamp 0', labels: ['__name__', 'up'], samples: [sample(0)], limits: { pastGracePeriod: 60 * MIN }, err: ErrorId.tooFarInPast },
  { name: 'second sample bad fails the series', labels: ['__name__', 'up'], samples: [sample(NOW), sample(NOW + 11 * MIN)], err: ErrorId.tooFarInFuture },
  { name: 'NaN, +Inf, -Inf, stale NaN values', labels: ['__name__', 'up'], samples: [sample(NOW - 3, NaN), sample(NOW - 2, Infinity), sample(NOW - 1, -Infinity), sample(NOW, STALE_NAN_BITS)], err: null },
];

for (const v of VERSIONS) {
  for (const c of CASES) {
    test(`v${v} ${c.name}`, () => {
      const raw = c.raw;
      const { req, res } = run(v, { series: [series(c.labels, c.samples)] }, c.limits, raw === undefined ? undefined : (b) => patch(b, raw[0], raw[1]));
      const n = (c.samples ?? [sample()]).length;
      if (c.err === null) {
        assert.equal(res.firstError, null, res.firstError?.message);
        assert.deepEqual([...res.keepSeries], [1]);
        assert.equal(res.keptSamples, n);
        assert.equal(res.discardedSamples.size, 0);
        return;
      }
      const e = res.firstError;
      assert.ok(e instanceof ValidationError, `expected ${c.err}, got no error`);
      assert.ok(e instanceof MuninnError);
      assert.equal(e.id, c.err);
      assert.equal(e.code, 'bad_data');
      assert.equal(e.httpStatus, 400);
      assert.equal(e.retryable, false);
      assert.ok(e.message.includes(`(err-mimir-${c.err})`), e.message);
      if (c.flag !== undefined) assert.ok(e.message.includes(c.flag), `${e.message} should name ${c.flag}`);
      assert.deepEqual([...res.keepSeries], [0]);
      assert.equal(res.keptSeries, 0);
      assert.equal(res.keptSamples, 0);
      assert.deepEqual([...res.discardedSamples], [[e.reason, n]]);
      assert.equal(req.seriesCount, 1);
    });
  }
}

test('the first error wins; valid series of the same request are kept; discards counted by reason', () => {
  for (const v of VERSIONS) {
    const { res } = run(v, {
      series: [
        series(['__name__', 'a', 'i', '0']),
        series(['job', 'nameless'], [sample(NOW - 1), sample(NOW)]),
        series(['__name__', 'b', 'i', 'v'.repeat(3000)]),
        series(['__name__', 'c', 'i', '3'], [sample(NOW - 2), sample(NOW - 1), sample(NOW)]),
        series(['__name__', 'd', 'i', '4'], [sample(NOW + 20 * MIN)]),
      ],
    });
    assert.deepEqual([...res.keepSeries], [1, 0, 0, 1, 0]);
    assert.equal(res.keptSeries, 2);
    assert.equal(res.keptSamples, 4);
    assert.equal(res.firstError?.id, ErrorId.missingMetricName);
    assert.deepEqual(Object.fromEntries(res.discardedSamples), {
      [DiscardReason.missingMetricName]: 2,
      [DiscardReason.labelValueTooLong]: 1,
      [DiscardReason.tooFarInFuture]: 1,
    });
    assert.equal(DiscardReason.tooFarInFuture, 'too_far_in_future');
    assert.equal(ingestionItems(res), 4);
  }
});

test('labels are sorted and empty-valued labels removed in place', () => {
  for (const v of VERSIONS) {
    const { req, res } = run(v, {
      series: [
        series(['z', '1', 'empty', '', '__name__', 'up', 'a', '2']),
        series(['__name__', 'ok', 'b', 'x']),
        series(['y', '', '__name__', 'x', 'b', 'x', 'a', '']),
      ],
    });
    assert.equal(res.firstError, null);
    assert.deepEqual(labelsOf(req, 0), ['__name__', 'up', 'a', '2', 'z', '1']);
    assert.deepEqual(labelsOf(req, 1), ['__name__', 'ok', 'b', 'x']);
    assert.deepEqual(labelsOf(req, 2), ['__name__', 'x', 'b', 'x']);
  }
});

test('error messages quote the series, cut long parts to 200 characters, and stay valid UTF-8', () => {
  const { res } = run(1, { series: [series(['__name__', 'up', 'a', 'QQ', 'long', 'x'.repeat(500)])] }, {}, (b) => patch(b, 'QQ', [0xff, 0xfe]));
  const m = res.firstError!.message;
  assert.ok(m.includes("label 'a'"), m);
  assert.ok(m.includes('\ufffd'), m);
  assert.ok(m.includes("metric: 'up'"), m);
  const tooMany = run(1, { series: [series(['__name__', 'up', ...many(40)])] }).res.firstError!;
  assert.ok(tooMany.message.includes('41 labels'), tooMany.message);
  assert.ok(tooMany.message.includes('limit of 30'), tooMany.message);
  assert.ok(tooMany.message.includes('\u2026'), 'a cut series ends in an ellipsis');
  const name = run(1, { series: [series(['__name__', 'bad.näme'])] }).res.firstError!;
  assert.ok(name.message.includes("'bad.nme (non-ascii characters removed)'"), name.message);
});

test('samples and histograms repeating a timestamp are dropped (the first kept), not an error', () => {
  for (const v of VERSIONS) {
    const { res } = run(v, {
      series: [
        series(['__name__', 'a'], [sample(NOW - 2), sample(NOW - 2, 5), sample(NOW - 1)]),
        series(['__name__', 'b'], [sample(NOW - 1), sample(NOW - 3), sample(NOW - 1), sample(NOW - 3)]),
        { labels: ['__name__', 'h'], histograms: [{ countInt: 0, timestamp: NOW - 5 }, { countInt: 0, timestamp: NOW - 5 }] },
      ],
    });
    assert.equal(res.firstError, null);
    assert.deepEqual([...res.sampleMask!], [1, 0, 1, 1, 1, 0, 0]);
    assert.deepEqual([...res.histogramMask!], [1, 0]);
    assert.equal(res.keptSamples, 4);
    assert.equal(res.keptHistograms, 1);
    assert.equal(res.discardedSamples.get(DiscardReason.duplicateTimestamp), 4);
  }
  const sorted = run(1, { series: [series(['__name__', 'a'], [sample(NOW - 2), sample(NOW - 1)])] }).res;
  assert.equal(sorted.sampleMask, null, 'no mask when nothing repeats');
});

test('native histograms: timestamps and schema', () => {
  const h = (schema: number, timestamp = NOW): SeriesObject => ({ labels: ['__name__', 'h'], histograms: [{ countInt: 0, schema, timestamp }] });
  for (const v of VERSIONS) {
    for (const schema of [-4, 0, 8, -53]) assert.equal(run(v, { series: [h(schema)] }).res.firstError, null, `schema ${schema}`);
    for (const schema of [-5, 9, -52, 100]) {
      const e = run(v, { series: [h(schema)] }).res.firstError;
      assert.equal(e?.id, ErrorId.invalidNativeHistogramSchema, `schema ${schema}`);
      assert.ok(e.message.includes(String(schema)));
    }
    assert.equal(run(v, { series: [h(0, NOW + 11 * MIN)] }).res.firstError?.id, ErrorId.tooFarInFuture);
  }
});

test('exemplars: dropped when disabled, invalid ones dropped silently, never an error', () => {
  const ex = (labels: string[], timestamp = NOW): { labels: string[]; value: number; timestamp: number } => ({ labels, value: 1, timestamp });
  const body = (exemplars: ReturnType<typeof ex>[]): WriteRequestObject => ({ series: [{ labels: ['__name__', 'up'], samples: [sample(NOW - MIN)], exemplars }] });
  const tid = ['trace_id', 'abc'];
  for (const v of VERSIONS) {
    // default -ingester.max-global-exemplars-per-user=0: every exemplar dropped, uncounted
    const off = run(v, body([ex(tid), ex(tid, NOW - 1)])).res;
    assert.deepEqual([...off.exemplarMask], [0, 0]);
    assert.equal(off.keptExemplars, 0);
    assert.equal(off.discardedExemplars.size, 0);

    const on = { maxGlobalExemplarsPerUser: 100_000 };
    const cases: Array<[string, ReturnType<typeof ex>, string | null]> = [
      ['valid', ex(tid), null],
      ['no labels', ex([]), DiscardReason.exemplarLabelsMissing],
      ['timestamp 0', ex(tid, 0), DiscardReason.exemplarTimestampInvalid],
      ['128 runes of labels', ex(['t', 'é'.repeat(127)]), null],
      ['129 runes of labels', ex(['t', 'é'.repeat(128)]), DiscardReason.exemplarLabelsTooLong],
      ['only an empty value', ex(['trace_id', '']), DiscardReason.exemplarLabelsBlank],
      ['5 minutes before the oldest sample', ex(tid, NOW - 6 * MIN), null],
      ['older', ex(tid, NOW - 6 * MIN - 1), DiscardReason.exemplarTooOld],
      ['at now + grace period', ex(tid, NOW + 10 * MIN), null],
      ['after now + grace period', ex(tid, NOW + 10 * MIN + 1), DiscardReason.exemplarTooFarInFuture],
    ];
    for (const [name, e, reason] of cases) {
      const res = run(v, body([e]), on).res;
      assert.equal(res.firstError, null, name);
      assert.equal(res.keptSamples, 1, name);
      assert.deepEqual([...res.exemplarMask], [reason === null ? 1 : 0], name);
      assert.deepEqual([...res.discardedExemplars], reason === null ? [] : [[reason, 1]], name);
    }
    const capped = run(v, body([ex(tid, NOW - 3), ex(tid, NOW - 2), ex(tid, NOW - 1)]), { ...on, maxExemplarsPerSeriesPerRequest: 1 }).res;
    assert.deepEqual([...capped.exemplarMask], [1, 0, 0]);
    assert.equal(capped.discardedExemplars.get(DiscardReason.tooManyExemplarsPerSeriesPerRequest), 2);
    assert.equal(ingestionItems(capped), 2);
    // exemplars of a dropped series go with it, uncounted
    const dropped = run(v, { series: [{ labels: ['job', 'x'], samples: [sample()], exemplars: [ex(tid)] }] }, on).res;
    assert.deepEqual([...dropped.exemplarMask], [0]);
    assert.equal(dropped.discardedExemplars.size, 0);
  }
});

test('1.0 metadata: HELP cut at a rune boundary, name and unit length, missing name', () => {
  const md = (metricFamilyName: string, help = 'h', unit = ''): { type: number; metricFamilyName: string; help: string; unit: string } => ({ type: 1, metricFamilyName, help, unit });
  const one = (m: ReturnType<typeof md>, limits: Partial<ValidationLimits> = {}): { req: DecodedWriteRequest; res: ValidationResult } => run(1, { series: [], metadata: [m] }, limits);

  let r = one(md('up', 'x'.repeat(1025)));
  assert.equal(r.res.firstError, null);
  assert.equal(metadataOf(r.req, 0).help.length, 1024);
  r = one(md('up', '€'.repeat(400))); // 1200 bytes; the last boundary at or below 1024 is 1023
  assert.equal(metadataOf(r.req, 0).help, '€'.repeat(341));
  assert.deepEqual([...r.res.metadataMask], [1]);
  assert.equal(r.res.keptMetadata, 1);

  r = one(md(''));
  assert.equal(r.res.firstError?.id, ErrorId.metadataMissingMetricName);
  assert.deepEqual([...r.res.discardedMetadata], [[DiscardReason.metadataMissingMetricName, 1]]);
  assert.equal(one(md(''), { enforceMetadataMetricName: false }).res.firstError, null);

  assert.equal(one(md('m'.repeat(1024))).res.firstError, null);
  const long = one(md('m'.repeat(1025))).res;
  assert.equal(long.firstError?.id, ErrorId.metadataMetricNameTooLong);
  assert.ok(long.firstError.message.includes('-validation.max-metadata-length'));
  assert.deepEqual([...long.metadataMask], [0]);
  assert.equal(one(md('up', 'h', 'u'.repeat(1025))).res.firstError?.id, ErrorId.metadataUnitTooLong);

  // a series error comes before a metadata error
  const both = run(1, { series: [series(['job', 'x'])], metadata: [md('')] }).res;
  assert.equal(both.firstError?.id, ErrorId.missingMetricName);
  assert.equal(both.discardedMetadata.get(DiscardReason.metadataMissingMetricName), 1);
});

test('2.0 per-series metadata: checked against the series metric name, dropped with its series', () => {
  const s = (labels: string[], help: string, unit = ''): SeriesObject => ({ labels, samples: [sample()], metadata: { type: 1, help, unit } });
  const { req, res } = run(2, {
    series: [
      s(['__name__', 'a'], 'x'.repeat(2000)),
      s(['__name__', 'b'], 'h', 'u'.repeat(1025)),
      s(['job', 'nameless'], 'h'),
      { labels: ['__name__', 'c'], samples: [sample()], metadata: { type: 0, help: '', unit: '' } },
    ],
  });
  assert.deepEqual([...res.keepSeries], [1, 1, 0, 1]);
  assert.equal(metadataOf(req, 0).help.length, 1024);
  assert.deepEqual([...res.metadataMask], [1, 0, 0, 0]);
  assert.equal(res.keptMetadata, 1);
  assert.equal(res.firstError?.id, ErrorId.missingMetricName);
  assert.deepEqual([...res.discardedMetadata], [[DiscardReason.metadataUnitTooLong, 1]]);
});

// ---- randomized: mutated bodies through decode + validate ----

function randomRequest(rnd: () => number): WriteRequestObject {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const names = ['__name__', 'job', 'instance', 'a', 'b', 'le', 'x.y', '', 'é'];
  const values = ['up', 'http_requests_total', 'x', '', 'é€', 'v'.repeat(50), 'line\nbreak'];
  const out: SeriesObject[] = [];
  const ns = 1 + Math.floor(rnd() * 4);
  for (let s = 0; s < ns; s++) {
    const labels: string[] = ['__name__', pick(values)];
    const nl = Math.floor(rnd() * 5);
    for (let l = 0; l < nl; l++) labels.push(pick(names), pick(values));
    const samples = Array.from({ length: Math.floor(rnd() * 4) }, () => sample(NOW + Math.floor((rnd() - 0.7) * 40 * MIN), pick([1, NaN, Infinity, 0.5])));
    const exemplars = Array.from({ length: Math.floor(rnd() * 3) }, () => ({ labels: rnd() < 0.8 ? ['trace_id', pick(values)] : [], value: 1, timestamp: NOW - Math.floor(rnd() * 10 * MIN) }));
    const histograms = rnd() < 0.2 ? [{ countInt: 2, sum: 1, schema: pick([0, 3, -53, 12]), zeroThreshold: 0.001, zeroCountInt: 1, positiveSpans: [{ offset: 0, length: 1 }], positiveDeltas: [1], timestamp: NOW }] : [];
    const metadata = rnd() < 0.3 ? { type: 1, help: pick(values), unit: pick(values) } : undefined;
    out.push({ labels, samples, exemplars, histograms, ...(metadata === undefined ? {} : { metadata }) });
  }
  const metadata = rnd() < 0.3 ? [{ type: 2, metricFamilyName: pick(values), help: pick(values), unit: '' }] : [];
  return { series: out, metadata };
}

function mutate(body: Uint8Array, rnd: () => number): Uint8Array {
  let b = Uint8Array.from(body);
  const ops = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < ops; k++) {
    const op = Math.floor(rnd() * 4);
    if (op === 0 && b.length > 0) {
      b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    } else if (op === 1 && b.length > 0) {
      b = b.subarray(0, Math.floor(rnd() * b.length));
    } else if (op === 2) {
      const at = Math.floor(rnd() * (b.length + 1));
      const junk = Uint8Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 256));
      const c = new Uint8Array(b.length + junk.length);
      c.set(b.subarray(0, at));
      c.set(junk, at);
      c.set(b.subarray(at), at + junk.length);
      b = c;
    } else if (b.length > 0) {
      const at = Math.floor(rnd() * b.length);
      b[at] = b[at]! ^ (1 << Math.floor(rnd() * 8));
    }
  }
  return b;
}

test('10,000 mutated requests: decode + validate end in ok or bad_data, never another throw', () => {
  const seed = 0x5eed_d157;
  const rnd = mulberry32(seed);
  const limits: ValidationLimits = { ...DEFAULTS, maxGlobalExemplarsPerUser: 1000, maxExemplarsPerSeriesPerRequest: 1, pastGracePeriod: 30 * MIN };
  const outcomes = { decodeError: 0, ok: 0, invalid: 0 };
  const start = Date.now();
  for (let iter = 0; iter < 10_000; iter++) {
    const v: V = rnd() < 0.5 ? 1 : 2;
    const body = mutate(encode(v, randomRequest(rnd)), rnd);
    let req: DecodedWriteRequest;
    try {
      req = decode(v, body);
    } catch (e) {
      assert.ok(e instanceof MuninnError && e.code === 'bad_data', `seed ${seed} iteration ${iter}: decode threw ${String(e)}`);
      outcomes.decodeError++;
      continue;
    }
    let res: ValidationResult;
    try {
      res = validateWriteRequest(req, { ...limits, nameValidationScheme: iter % 2 === 0 ? 'legacy' : 'utf8' }, NOW);
    } catch (e) {
      assert.fail(`seed ${seed} iteration ${iter}: validate threw ${String(e)}`);
    }
    assert.equal(res.keepSeries.length, req.seriesCount);
    assert.ok(res.keptSamples <= req.timestamps.length && res.keptHistograms <= req.histograms.count);
    assert.ok(res.keptExemplars <= req.exemplars.count && res.keptMetadata <= req.metadata.count);
    for (let i = 0; i < req.seriesCount; i++) {
      const ls = labelsOf(req, i);
      for (let k = 1; k < ls.length; k += 2) assert.notEqual(ls[k], '', 'no empty values are left');
    }
    if (res.firstError === null) outcomes.ok++;
    else {
      assert.ok(res.firstError instanceof ValidationError && res.firstError.code === 'bad_data');
      assert.match(res.firstError.message, /\(err-mimir-[a-z-]+\)/);
      outcomes.invalid++;
    }
  }
  assert.ok(Date.now() - start < 15_000, 'no hang');
  // the mutations reach all three outcomes
  assert.ok(outcomes.decodeError > 0 && outcomes.ok > 0 && outcomes.invalid > 0, JSON.stringify(outcomes));
});
