import '../harness.js';
// The runtime config: the file format and its errors, per-tenant merging, the reloading service,
// its metrics and GET /runtime_config.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, defaultsOf, defineGroup, loadConfig, renderHelp, stringOpt } from '../../src/config/index.js';
import { validationConfig } from '../../src/distributor/config.js';
import { limitsConfig } from '../../src/ingester/config.js';
import { querierConfig } from '../../src/querier/config.js';
import { State } from '../../src/lifecycle/index.js';
import { createLogger, silentLogger } from '../../src/log/index.js';
import { createBareRegistry, RequestMetrics, type Registry } from '../../src/metrics/index.js';
import { HttpServer } from '../../src/server/http.js';
import {
  EMPTY_RUNTIME_CONFIG, LIMIT_KEYS, type LimitDefaults, mergeRuntimeConfigs, Overrides, parseRuntimeConfig, registerRuntimeConfigRoutes,
  renderRuntimeConfig, RuntimeConfigError, RuntimeConfigService, runtimeConfigFiles, runtimeConfigGroup,
} from '../../src/runtimeconfig/index.js';
import { deferred, withDeadline } from '../util.js';

const dir = mkdtempSync(join(tmpdir(), 'muninn-rtc-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileSeq = 0;
function writeTemp(text: string): string {
  const f = join(dir, `rc-${++fileSeq}.yaml`);
  writeFileSync(f, text);
  return f;
}

function defaults(): LimitDefaults {
  const d = defaultsOf({ validation: validationConfig, limits: limitsConfig });
  return { validation: d.validation, limits: d.limits };
}

function captureLogger(): { log: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('debug', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

function newService(file: string, o: { registry?: Registry; log?: ReturnType<typeof createLogger>; periodMs?: number } = {}): RuntimeConfigService {
  return new RuntimeConfigService({
    config: { file, reloadPeriod: o.periodMs ?? 3_600_000 },
    defaults: defaults(),
    log: o.log ?? silentLogger(),
    registry: o.registry ?? createBareRegistry(),
  });
}

async function metricValues(registry: Registry, name: string): Promise<Array<{ labels: Record<string, unknown>; value: number }>> {
  const m = registry.getSingleMetric(name);
  assert.ok(m !== undefined, `metric ${name} is registered`);
  return (await m.get()).values.map((v) => ({ labels: { ...v.labels }, value: v.value }));
}

// ---- config group --------------------------------------------------------------------------------

test("the group has Mimir's flags, YAML keys and defaults", () => {
  const root = defineGroup('root', { configFile: stringOpt('config.file', null, '', 'config file') });
  const schema = { root, runtimeConfig: runtimeConfigGroup };
  assert.deepEqual(defaultsOf(schema).runtimeConfig, { file: '', reloadPeriod: 10_000 });
  const fromYaml = loadConfig(schema, ['-config.file=c.yaml'], () => 'runtime_config:\n  file: a.yaml, b.yaml\n  period: 1m\n').config.runtimeConfig;
  assert.deepEqual(fromYaml, { file: 'a.yaml, b.yaml', reloadPeriod: 60_000 });
  assert.deepEqual(runtimeConfigFiles(fromYaml), ['a.yaml', 'b.yaml']);
  const fromFlags = loadConfig(schema, ['-runtime-config.file=x.yaml', '-runtime-config.reload-period=5s']).config.runtimeConfig;
  assert.deepEqual(fromFlags, { file: 'x.yaml', reloadPeriod: 5_000 });
  assert.deepEqual(runtimeConfigFiles({ file: '' }), []);
  assert.throws(() => loadConfig(schema, ['-runtime-config.reload-period=0s']),
    (e: unknown) => e instanceof ConfigError && /-runtime-config\.reload-period must be greater than 0/.test(e.message));
  const help = renderHelp({ runtimeConfig: runtimeConfigGroup }, 'muninn');
  assert.match(help, /-runtime-config\.file string\n\s+\tComma separated list of yaml files with the configuration that can be updated at runtime\. Runtime config files will be merged from left to right\.\n/);
  assert.match(help, /-runtime-config\.reload-period duration\n\s+\tHow often to check runtime config files\. \(default 10s\)\n/);
});

test('every limit of the three groups can be overridden, under its YAML key without "limits."', () => {
  const expected = [
    ...Object.values(validationConfig.options).map((o) => o.yaml),
    ...Object.values(limitsConfig.options).map((o) => o.yaml),
    ...Object.values(querierConfig.options).map((o) => o.yaml).filter((y) => y !== null && y.startsWith('limits.')),
  ].map((y) => (y as string).replace(/^limits\./, ''));
  assert.deepEqual([...LIMIT_KEYS.keys()], expected);
  assert.equal(LIMIT_KEYS.get('ingestion_rate')?.group, 'validation');
  assert.equal(LIMIT_KEYS.get('max_global_series_per_user')?.group, 'limits');
  assert.equal(LIMIT_KEYS.get('max_query_lookback')?.group, 'querier');
  assert.equal(LIMIT_KEYS.get('enable_delayed_name_removal')?.group, 'querier');
});

test('the querier\'s limits per tenant: max_query_lookback, enable_delayed_name_removal', () => {
  const d = defaults();
  const ov = new Overrides(d, parseRuntimeConfig([
    'overrides:',
    '  a:',
    '    max_query_lookback: 1h',
    '    enable_delayed_name_removal: true',
    '  b:',
    '    ingestion_rate: 5',
  ].join('\n'), 'f.yaml'));
  assert.equal(ov.querierLimits('a').maxQueryLookback, 3_600_000);
  assert.equal(ov.querierLimits('a').enableDelayedNameRemoval, true);
  assert.equal(ov.querierLimits('b').enableDelayedNameRemoval, false);
  assert.equal(ov.querierLimits('zzz'), ov.defaults.querier);
  assert.match(renderRuntimeConfig(ov, 'diff'), /a:\n {4}max_query_lookback: 1h0m0s\n {4}enable_delayed_name_removal: true\n/);
});

// ---- parsing ---------------------------------------------------------------------------------

test('good files parse into per-tenant overrides with the options\' own types', () => {
  const cases: Array<[string, string, Record<string, { validation: object; limits: object }>]> = [
    ['empty file', '', {}],
    ['comment only', '# nothing yet\n', {}],
    ['empty overrides', 'overrides:\n', {}],
    ['empty overrides map', 'overrides: {}\n', {}],
    ['all kinds', [
      'overrides:',
      '  tenant-a:',
      '    ingestion_rate: 5000',
      '    ingestion_burst_size: 7',
      '    creation_grace_period: 10m',
      '    out_of_order_time_window: 1h30m',
      '    native_histograms_ingestion_enabled: true',
      '    name_validation_scheme: utf8',
      '    max_global_series_per_user: "300"',
      '    past_grace_period: 0',
    ].join('\n'), {
      'tenant-a': {
        validation: { ingestionRate: 5000, ingestionBurstSize: 7, creationGracePeriod: 600_000, nameValidationScheme: 'utf8', pastGracePeriod: 0 },
        limits: { outOfOrderTimeWindow: 5_400_000, nativeHistogramsIngestionEnabled: true, maxGlobalSeriesPerUser: 300 },
      },
    }],
    ['a tenant without limits, an empty value', 'overrides:\n  t1:\n  t2:\n    ingestion_rate:\n', { t1: { validation: {}, limits: {} }, t2: { validation: {}, limits: {} } }],
    ['tenant IDs as written', 'overrides:\n  0123: {}\n  1e3: {}\n  "q.x": {}\n', { '0123': { validation: {}, limits: {} }, '1e3': { validation: {}, limits: {} }, 'q.x': { validation: {}, limits: {} } }],
    ['anchors, aliases and merge keys', [
      'overrides:',
      '  big: &big',
      '    ingestion_rate: 100',
      '    max_global_series_per_user: 5',
      '  bigger:',
      '    <<: *big',
      '    ingestion_rate: 200',
      '  same: *big',
    ].join('\n'), {
      big: { validation: { ingestionRate: 100 }, limits: { maxGlobalSeriesPerUser: 5 } },
      bigger: { validation: { ingestionRate: 200 }, limits: { maxGlobalSeriesPerUser: 5 } },
      same: { validation: { ingestionRate: 100 }, limits: { maxGlobalSeriesPerUser: 5 } },
    }],
  ];
  for (const [name, text, want] of cases) {
    const got = parseRuntimeConfig(text, 'f.yaml');
    const plain = Object.fromEntries([...got.overrides].map(([t, o]) => [t, { validation: { ...o.validation }, limits: { ...o.limits } }]));
    assert.deepEqual(plain, want, name);
  }
});

test('bad files are refused with an error naming the file, the tenant, the key and the line', () => {
  const cases: Array<[string, string]> = [
    ['overrides:\n  t:\n    ingestion_rate: abc\n', 'overrides: tenant "t": ingestion_rate (line 3): expected a number, got "abc"'],
    ['overrides:\n  t:\n    max_foo: 1\n', 'overrides: tenant "t": unknown limit max_foo (line 3)'],
    ['overrides:\n  t:\n    limits.ingestion_rate: 1\n', 'overrides: tenant "t": unknown limit limits.ingestion_rate (line 3)'],
    ['multi_kv_config: {}\n', 'unknown key multi_kv_config (line 1): the runtime config supports only overrides'],
    ['overrides:\n  a/b:\n    ingestion_rate: 1\n', 'overrides: invalid tenant ID "a/b" (line 2): tenant ID "a/b" contains unsupported characters: use letters, digits and ! - _ . * \' ( ) only'],
    ['overrides:\n  "..":\n', 'overrides: invalid tenant ID ".." (line 2): tenant ID ".." is not allowed'],
    ['overrides:\n  t:\n    creation_grace_period: 600\n', 'overrides: tenant "t": creation_grace_period (line 3): expected a duration string such as "30s", got number 600'],
    ['overrides:\n  t:\n    creation_grace_period: 10 minutes\n', 'overrides: tenant "t": creation_grace_period (line 3): expected a duration such as 30s or 1m30s, got "10 minutes"'],
    ['overrides:\n  t:\n    native_histograms_ingestion_enabled: yes\n', 'overrides: tenant "t": native_histograms_ingestion_enabled (line 3): expected true or false, got string "yes"'],
    ['overrides:\n  t:\n    ingestion_burst_size: 1.5\n', 'overrides: tenant "t": ingestion_burst_size (line 3): expected an integer, got "1.5"'],
    ['overrides:\n  t:\n    max_global_series_per_user: -1\n', 'overrides: tenant "t": max_global_series_per_user (line 3): must be at least 0, got -1'],
    ['overrides:\n  t:\n    name_validation_scheme: ascii\n', 'overrides: tenant "t": name_validation_scheme (line 3): expected one of legacy, utf8, got "ascii"'],
    ['overrides:\n  t:\n    ingestion_rate: [1]\n', 'overrides: tenant "t": ingestion_rate (line 3): expected a float, got a list'],
    ['overrides:\n  t: 5\n', 'overrides: tenant "t" (line 2): the limits must be a map of limit names to values'],
    ['overrides:\n  - a\n', 'overrides (line 2) must be a map of tenant IDs to limits'],
    ['overrides: 3\n', 'overrides (line 1) must be a map of tenant IDs to limits'],
    ['- a\n', 'the document (line 1) must be a map'],
    ['overrides:\n  [a]: {}\n', 'overrides (line 2): keys must be strings'],
    ['overrides:\n  t: &x\n    ingestion_rate: 3\n  u:\n    <<: *x\n    max_foo: 1\n', 'overrides: tenant "u": unknown limit max_foo (line 6)'],
  ];
  for (const [text, msg] of cases) {
    assert.throws(() => parseRuntimeConfig(text, 'f.yaml'), (e: unknown) => {
      assert.ok(e instanceof RuntimeConfigError && e instanceof ConfigError);
      assert.equal(e.message, `runtime config file "f.yaml": ${msg}`);
      return true;
    }, text);
  }
  // YAML syntax: the file and the line
  const syntax: Array<[string, string]> = [
    ['overrides:\n  t:\n    ingestion_rate: 1\n    ingestion_rate: 2\n', 'runtime config file "f.yaml" line 4: Map keys must be unique'],
    ['a: 1\n---\nb: 2\n', 'runtime config file "f.yaml" line 2: Source contains multiple documents; please use YAML.parseAllDocuments()'],
  ];
  for (const [text, msg] of syntax) assert.throws(() => parseRuntimeConfig(text, 'f.yaml'), { name: 'RuntimeConfigError', message: msg });
  assert.throws(() => parseRuntimeConfig('overrides: [\n', 'f.yaml'), /^RuntimeConfigError: runtime config file "f\.yaml" line 2: /);
});

// ---- merging ---------------------------------------------------------------------------------

test('overrides merge each tenant\'s values over the defaults; others get the defaults', () => {
  const d = defaults();
  const ov = new Overrides(d, parseRuntimeConfig([
    'overrides:',
    '  a:',
    '    ingestion_rate: 5',
    '    out_of_order_time_window: 5m',
    '  b:',
    '    max_label_names_per_series: 40',
    '  c:',
  ].join('\n'), 'f.yaml'));
  assert.deepEqual(ov.tenants(), ['a', 'b', 'c']);
  assert.deepEqual(ov.validation('a'), { ...d.validation, ingestionRate: 5 });
  assert.deepEqual(ov.ingesterLimits('a'), { ...d.limits, outOfOrderTimeWindow: 300_000 });
  assert.deepEqual(ov.tenantLimitsPartial('a'), { outOfOrderTimeWindow: 300_000 });
  assert.deepEqual(ov.validation('b'), { ...d.validation, maxLabelNamesPerSeries: 40 });
  assert.equal(ov.tenantLimitsPartial('b'), undefined, 'no ingester limit overridden');
  assert.equal(ov.tenantLimitsPartial('c'), undefined);
  assert.deepEqual(ov.validation('c'), d.validation);
  // no override: the defaults themselves; cached objects are shared and frozen
  assert.equal(ov.validation('zzz'), ov.defaults.validation);
  assert.equal(ov.ingesterLimits('zzz'), ov.defaults.limits);
  assert.equal(ov.tenantLimitsPartial('zzz'), undefined);
  assert.equal(ov.validation('a'), ov.validation('a'));
  assert.ok(Object.isFrozen(ov.validation('a')) && Object.isFrozen(ov.ingesterLimits('a')) && Object.isFrozen(ov.defaults.limits));
  // the caller's defaults are copied
  d.validation.ingestionRate = 1;
  assert.equal(ov.validation('zzz').ingestionRate, 10_000);
  // no runtime config at all
  const none = new Overrides(defaults());
  assert.deepEqual(none.tenants(), []);
  assert.equal(none.runtimeConfig(), EMPTY_RUNTIME_CONFIG);
  assert.equal(none.validation('a').ingestionRate, 10_000);
});

test('files merge from left to right, key by key', () => {
  const left = parseRuntimeConfig('overrides:\n  a:\n    ingestion_rate: 1\n    ingestion_burst_size: 2\n  b:\n    ingestion_rate: 3\n', 'l.yaml');
  const right = parseRuntimeConfig('overrides:\n  a:\n    ingestion_rate: 10\n  c:\n    out_of_order_time_window: 1m\n', 'r.yaml');
  const m = mergeRuntimeConfigs([left, right]);
  const plain = Object.fromEntries([...m.overrides].map(([t, o]) => [t, { ...o.validation, ...o.limits }]));
  assert.deepEqual(plain, {
    a: { ingestionRate: 10, ingestionBurstSize: 2 },
    b: { ingestionRate: 3 },
    c: { outOfOrderTimeWindow: 60_000 },
  });
  assert.equal(mergeRuntimeConfigs([left]), left);
});

test('apply reports the tenants whose limits changed, and is atomic when a tenant\'s limits are invalid', () => {
  const ov = new Overrides(defaults());
  const rc = (s: string): ReturnType<typeof parseRuntimeConfig> => parseRuntimeConfig(s, 'f.yaml');
  assert.deepEqual(ov.apply(rc('overrides:\n  a:\n    ingestion_rate: 5\n  b:\n    ingestion_rate: 6\n  c:\n')), ['a', 'b']);
  // b unchanged; a changed; c dropped (no change: it had the defaults); d added
  assert.deepEqual(ov.apply(rc('overrides:\n  a:\n    ingestion_rate: 7\n  b:\n    ingestion_rate: 6\n  d:\n    max_global_series_per_user: 1\n')), ['a', 'd']);
  // setting a value equal to the default is no change
  assert.deepEqual(ov.apply(rc('overrides:\n  a:\n    ingestion_rate: 7\n  b:\n    ingestion_rate: 6\n  d:\n    max_global_series_per_user: 1\n    ingestion_rate: 10000\n')), []);
  const before = ov.runtimeConfig();
  assert.throws(() => ov.apply(rc('overrides:\n  a:\n    ingestion_rate: 1\n  e:\n    ingestion_burst_factor: 0.5\n')), {
    name: 'RuntimeConfigError',
    message: 'overrides: tenant "e": invalid validation limits: -distributor.ingestion-burst-factor must be 0 (off) or at least 1, got 0.5',
  });
  assert.equal(ov.runtimeConfig(), before);
  assert.equal(ov.validation('a').ingestionRate, 7);
  assert.deepEqual(ov.tenants(), ['a', 'b', 'd']);
  assert.throws(() => new Overrides(defaults(), rc('overrides:\n  e:\n    ingestion_burst_factor: 0.5\n')), RuntimeConfigError);
});

// ---- the service -----------------------------------------------------------------------------

test('the service loads the file on start, reloads changes and keeps the old config after a broken write', async () => {
  const file = writeTemp('overrides:\n  a:\n    ingestion_rate: 5\n');
  const registry = createBareRegistry();
  const { log, lines } = captureLogger();
  const svc = newService(file, { registry, log });
  const changes: string[][] = [];
  svc.onChange((t) => changes.push([...t]));
  svc.startAsync();
  await withDeadline(svc.awaitRunning(), 5000, 'service did not start');
  assert.equal(svc.overrides.validation('a').ingestionRate, 5);
  assert.ok(svc.loaded());
  const hash1 = createHash('sha256').update('overrides:\n  a:\n    ingestion_rate: 5\n').digest('hex');
  assert.equal(svc.hash(), hash1);
  assert.deepEqual(await metricValues(registry, 'cortex_runtime_config_last_reload_successful'), [{ labels: {}, value: 1 }]);
  assert.deepEqual(await metricValues(registry, 'cortex_runtime_config_hash'), [{ labels: { sha256: hash1 }, value: 1 }]);

  // unchanged content: not re-applied
  assert.deepEqual(await svc.reload(), { status: 'unchanged', hash: hash1 });

  // a change
  writeFileSync(file, 'overrides:\n  a:\n    ingestion_rate: 6\n  b:\n    out_of_order_time_window: 1m\n');
  const r = await svc.reload();
  assert.equal(r.status, 'applied');
  assert.deepEqual(r.status === 'applied' ? r.changedTenants : [], ['a', 'b']);
  assert.deepEqual(changes, [['a'], ['a', 'b']], 'the first load, then the change');
  assert.equal(svc.overrides.validation('a').ingestionRate, 6);
  assert.equal(svc.overrides.ingesterLimits('b').outOfOrderTimeWindow, 60_000);
  const hash2 = svc.hash();
  assert.notEqual(hash2, hash1);
  assert.deepEqual(await metricValues(registry, 'cortex_runtime_config_hash'), [{ labels: { sha256: hash2 }, value: 1 }]);
  const changedLog = lines.findLast((l) => l.msg === 'runtime config applied: tenant limits changed');
  assert.deepEqual(changedLog?.changedTenants, ['a', 'b']);
  assert.equal(changedLog?.component, 'runtime-config');

  // broken writes: the old config stays, the metric says so, one error log per streak
  writeFileSync(file, 'overrides:\n  a:\n    ingestion_rate: lots\n');
  for (let i = 0; i < 3; i++) {
    const f = await svc.reload();
    assert.equal(f.status, 'failed');
    assert.equal(f.status === 'failed' ? f.error.message : '', `runtime config file "${file}": overrides: tenant "a": ingestion_rate (line 3): expected a number, got "lots"`);
  }
  assert.equal(svc.overrides.validation('a').ingestionRate, 6);
  assert.equal(svc.hash(), hash2);
  assert.match(svc.lastError()?.message ?? '', /ingestion_rate/);
  assert.deepEqual(await metricValues(registry, 'cortex_runtime_config_last_reload_successful'), [{ labels: {}, value: 0 }]);
  assert.deepEqual(await metricValues(registry, 'cortex_runtime_config_hash'), [{ labels: { sha256: hash2 }, value: 1 }]);
  const errors = (): Array<Record<string, unknown>> => lines.filter((l) => l.level === 'error');
  assert.equal(errors().length, 1);
  assert.match(String((errors()[0]?.err as { message?: string } | undefined)?.message), /ingestion_rate/);
  // a different breakage is logged again; the same one is not
  writeFileSync(file, 'overrides:\n  a/b: {}\n');
  await svc.reload();
  await svc.reload();
  assert.equal(errors().length, 2);
  // a deleted file is a failure too
  rmSync(file);
  const gone = await svc.reload();
  assert.match(gone.status === 'failed' ? gone.error.message : '', new RegExp(`^runtime config file "${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}": cannot read: ENOENT`));
  assert.equal(svc.overrides.validation('a').ingestionRate, 6);

  // fixed: applied, the metric is back to 1, the recovery is logged
  writeFileSync(file, 'overrides:\n  a:\n    ingestion_rate: 8\n');
  assert.equal((await svc.reload()).status, 'applied');
  assert.equal(svc.overrides.validation('a').ingestionRate, 8);
  assert.equal(svc.lastError(), undefined);
  assert.deepEqual(await metricValues(registry, 'cortex_runtime_config_last_reload_successful'), [{ labels: {}, value: 1 }]);
  assert.ok(lines.some((l) => l.msg === 'runtime config reloads succeed again'));
  // a failure streak after a recovery is logged again
  writeFileSync(file, 'nope: 1\n');
  await svc.reload();
  assert.equal(errors().length, 4);

  svc.stopAsync();
  await withDeadline(svc.awaitTerminated(), 5000, 'service did not stop');
});

test('the period reload picks up a changed file', async () => {
  const file = writeTemp('overrides:\n  a:\n    ingestion_rate: 5\n');
  const svc = newService(file, { periodMs: 5 });
  svc.startAsync();
  await withDeadline(svc.awaitRunning(), 5000, 'service did not start');
  const changed = deferred<readonly string[]>();
  svc.onChange((t) => changed.resolve(t));
  writeFileSync(file, 'overrides:\n  a:\n    ingestion_rate: 9\n');
  assert.deepEqual(await withDeadline(changed.promise, 10_000, 'the periodic reload did not apply the change'), ['a']);
  assert.equal(svc.overrides.validation('a').ingestionRate, 9);
  svc.stopAsync();
  await withDeadline(svc.awaitTerminated(), 5000, 'service did not stop');
});

test('a bad or missing file fails the start, naming the file', async () => {
  const bad = writeTemp('overrides:\n  t:\n    unknown_limit: 1\n');
  const registry = createBareRegistry();
  const svc = newService(bad, { registry });
  svc.startAsync();
  await assert.rejects(withDeadline(svc.awaitRunning(), 5000, 'start did not end'));
  assert.equal(svc.state(), State.Failed);
  assert.equal(svc.failureCase()?.message, `failed to load runtime config: runtime config file "${bad}": overrides: tenant "t": unknown limit unknown_limit (line 3)`);
  assert.deepEqual(await metricValues(registry, 'cortex_runtime_config_last_reload_successful'), [{ labels: {}, value: 0 }]);

  const missing = join(dir, 'does-not-exist.yaml');
  const svc2 = newService(missing);
  svc2.startAsync();
  await assert.rejects(withDeadline(svc2.awaitRunning(), 5000, 'start did not end'));
  assert.match(svc2.failureCase()?.message ?? '', new RegExp(`^failed to load runtime config: runtime config file ".*does-not-exist\\.yaml": cannot read: ENOENT`));

  // merged limits that fail validation name the files
  const a = writeTemp('overrides:\n  t:\n    ingestion_burst_factor: 2\n');
  const b = writeTemp('overrides:\n  t:\n    ingestion_burst_factor: 0.5\n');
  const svc3 = newService(`${a},${b}`);
  svc3.startAsync();
  await assert.rejects(withDeadline(svc3.awaitRunning(), 5000, 'start did not end'));
  assert.equal(svc3.failureCase()?.message,
    `failed to load runtime config: runtime config files "${a}", "${b}": overrides: tenant "t": invalid validation limits: -distributor.ingestion-burst-factor must be 0 (off) or at least 1, got 0.5`);
});

test('several files merge from left to right; the hash covers them all', async () => {
  const a = writeTemp('overrides:\n  t:\n    ingestion_rate: 1\n    ingestion_burst_size: 2\n');
  const b = writeTemp('overrides:\n  t:\n    ingestion_rate: 3\n  u:\n    max_global_series_per_user: 4\n');
  const registry = createBareRegistry();
  const svc = newService(` ${a} , ${b} `, { registry });
  svc.startAsync();
  await withDeadline(svc.awaitRunning(), 5000, 'service did not start');
  assert.deepEqual(svc.files, [a, b]);
  assert.equal(svc.overrides.validation('t').ingestionRate, 3);
  assert.equal(svc.overrides.validation('t').ingestionBurstSize, 2);
  assert.equal(svc.overrides.ingesterLimits('u').maxGlobalSeriesPerUser, 4);
  const h1 = svc.hash();
  assert.match(h1 ?? '', /^[0-9a-f]{64}$/);
  writeFileSync(b, 'overrides:\n  t:\n    ingestion_rate: 3\n');
  assert.equal((await svc.reload()).status, 'applied');
  assert.notEqual(svc.hash(), h1);
  assert.equal(svc.overrides.tenantLimitsPartial('u'), undefined);
  svc.stopAsync();
  await withDeadline(svc.awaitTerminated(), 5000, 'service did not stop');
});

test('without a file the service runs with the defaults and reads nothing', async () => {
  const registry = createBareRegistry();
  const svc = newService('', { registry });
  svc.startAsync();
  await withDeadline(svc.awaitRunning(), 5000, 'service did not start');
  assert.equal(svc.loaded(), false);
  assert.deepEqual(await svc.reload(), { status: 'disabled' });
  assert.deepEqual(svc.overrides.tenants(), []);
  assert.equal(svc.overrides.validation('a').ingestionRate, 10_000);
  assert.deepEqual(await metricValues(registry, 'cortex_runtime_config_last_reload_successful'), [{ labels: {}, value: 1 }]);
  svc.stopAsync();
  await withDeadline(svc.awaitTerminated(), 5000, 'service did not stop');
});

test('two services may share a registry', async () => {
  const registry = createBareRegistry();
  const file = writeTemp('overrides:\n  a: {}\n');
  const s1 = newService(file, { registry });
  const s2 = newService(file, { registry });
  s1.startAsync();
  s2.startAsync();
  await withDeadline(Promise.all([s1.awaitRunning(), s2.awaitRunning()]), 5000, 'services did not start');
  assert.deepEqual(await metricValues(registry, 'cortex_runtime_config_hash'), [{ labels: { sha256: s1.hash() }, value: 1 }]);
  s1.stopAsync();
  s2.stopAsync();
  await withDeadline(Promise.all([s1.awaitTerminated(), s2.awaitTerminated()]), 5000, 'services did not stop');
});

test('a stopped service leaves no timer behind', async () => {
  const file = writeTemp('overrides: {}\n');
  const periodMs = 3_600_000 + 17; // a delay no other timer uses
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Set<unknown>();
  let created = 0;
  const svc = newService(file, { periodMs });
  try {
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      const t = realSet(() => {
        live.delete(t);
        fn();
      }, ms);
      if (ms === periodMs) {
        created++;
        live.add(t);
        assert.equal(t.hasRef(), true);
      }
      return t;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((t: Parameters<typeof clearTimeout>[0]) => {
      live.delete(t);
      realClear(t);
    }) as typeof clearTimeout;
    svc.startAsync();
    await withDeadline(svc.awaitRunning(), 5000, 'service did not start');
    // the reload timer is set once the service runs
    for (let i = 0; i < 50 && created === 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(created, 1, 'the reload timer was set');
    const [t] = [...live] as NodeJS.Timeout[];
    assert.equal(t?.hasRef(), false, 'the reload timer is unref\'d');
    svc.stopAsync();
    await withDeadline(svc.awaitTerminated(), 5000, 'service did not stop within the period');
    assert.equal(live.size, 0, 'the reload timer was cleared');
    assert.equal(svc.state(), State.Terminated);
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
});

// ---- HTTP ------------------------------------------------------------------------------------

test('GET /runtime_config shows the limits in effect per tenant, or only the differences', async () => {
  const file = writeTemp([
    'overrides:',
    '  tenant-b:',
    '    ingestion_rate: 5000',
    '    out_of_order_time_window: 10m',
    '  tenant-a:',
    '    native_histograms_ingestion_enabled: true',
    '    ingestion_burst_size: 200000', // the default: not in the diff
    '  "0123":',
  ].join('\n'));
  const svc = newService(file);
  const server = new HttpServer({ listenAddress: '127.0.0.1', listenPort: 0, readTimeoutMs: 30_000, writeTimeoutMs: 30_000, idleTimeoutMs: 30_000 },
    silentLogger(), new RequestMetrics(createBareRegistry()));
  registerRuntimeConfigRoutes(server, svc);
  await server.listen();
  const base = `http://127.0.0.1:${server.address().port}/runtime_config`;
  try {
    const early = await fetch(base);
    assert.equal(early.status, 503);
    assert.equal(await early.text(), 'runtime config not loaded yet\n');

    svc.startAsync();
    await withDeadline(svc.awaitRunning(), 5000, 'service did not start');

    const diff = await fetch(`${base}?mode=diff`);
    assert.equal(diff.status, 200);
    assert.equal(diff.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await diff.text(), [
      'overrides:',
      '  "0123": {}',
      '  tenant-a:',
      '    native_histograms_ingestion_enabled: true',
      '  tenant-b:',
      '    ingestion_rate: 5000',
      '    out_of_order_time_window: 10m0s',
      '',
    ].join('\n'));

    const full = await fetch(base);
    assert.equal(full.status, 200);
    assert.equal(full.headers.get('content-type'), 'text/plain; charset=utf-8');
    const text = await full.text();
    assert.equal(text, renderRuntimeConfig(svc.overrides, 'full'));
    const parsed = parseRuntimeConfig(text, 'served');
    assert.deepEqual([...parsed.overrides.keys()], ['0123', 'tenant-a', 'tenant-b']);
    const b = parsed.overrides.get('tenant-b');
    assert.deepEqual({ ...b?.validation }, { ...svc.overrides.defaults.validation, ingestionRate: 5000 });
    assert.deepEqual({ ...b?.limits }, { ...svc.overrides.defaults.limits, outOfOrderTimeWindow: 600_000 });
    assert.match(text, /^ {2}tenant-a:\n {4}ingestion_rate: 10000\n {4}ingestion_burst_size: 200000\n/m);
    assert.match(text, /^ {4}creation_grace_period: 10m0s$/m);

    const bad = await fetch(`${base}?mode=defaults`);
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), 'invalid mode "defaults": use mode=diff, or no mode for the full runtime config\n');
  } finally {
    svc.stopAsync();
    await withDeadline(svc.awaitTerminated(), 5000, 'service did not stop');
    await server.close(1000);
  }
});

test('GET /runtime_config without a runtime config file says so, as Mimir does', async () => {
  const svc = newService('');
  const server = new HttpServer({ listenAddress: '127.0.0.1', listenPort: 0, readTimeoutMs: 30_000, writeTimeoutMs: 30_000, idleTimeoutMs: 30_000 },
    silentLogger(), new RequestMetrics(createBareRegistry()));
  registerRuntimeConfigRoutes(server, svc);
  await server.listen();
  try {
    const r = await fetch(`http://127.0.0.1:${server.address().port}/runtime_config`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "runtime config file doesn't exist\n");
    assert.equal(renderRuntimeConfig(svc.overrides, 'diff'), 'overrides: {}\n');
  } finally {
    await server.close(1000);
  }
});
