// loadConfig: flag syntax (as Go's flag package takes it), value types, the YAML file, precedence
// defaults < YAML < flags, where each value came from, -help/-version/-modules, and per-component
// validation. Everything runs in-process with an injected readFile: no disk, no clock.
import '../harness.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { schema, type MuninnConfig } from '../../src/app/config.js';
import { ConfigError, defaultsOf, defineGroup, intOpt, loadConfig, optionsOf, stringOpt, type LoadResult } from '../../src/config/index.js';

const FILE = 'muninn.yaml';

/** A readFile that knows only the given files and fails like fs does for the others. */
function reader(files: Record<string, string>): (path: string) => string {
  return (p) => {
    const text = files[p];
    if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
    return text;
  };
}

/** Loads the real schema from flags and, when yaml is given, a config file holding it. */
function load(argv: readonly string[], yaml?: string): LoadResult<typeof schema> {
  if (yaml === undefined) return loadConfig(schema, argv, reader({}));
  return loadConfig(schema, [`-config.file=${FILE}`, ...argv], reader({ [FILE]: yaml }));
}

/** Asserts that fn throws a ConfigError whose message holds every one of parts. */
function throwsConfigError(fn: () => unknown, parts: readonly string[], label: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `${label}: expected a ConfigError, nothing was thrown`);
  assert.ok(thrown instanceof ConfigError, `${label}: expected a ConfigError, got ${String(thrown)}`);
  for (const p of parts) assert.ok(thrown.message.includes(p), `${label}: message ${JSON.stringify(thrown.message)} should contain ${JSON.stringify(p)}`);
}

type Pick = (c: MuninnConfig) => unknown;
const httpPort: Pick = (c) => c.server.httpListenPort;
const httpAddr: Pick = (c) => c.server.httpListenAddress;
const pingAllowed: Pick = (c) => c.server.grpcPingWithoutStreamAllowed; // a bool defaulting to true
const delay: Pick = (c) => c.root.shutdownDelay;
const maxAge: Pick = (c) => c.server.grpcMaxConnectionAge;
const target: Pick = (c) => c.root.target;
const logLevel: Pick = (c) => c.server.logLevel;

test('flag syntax and value types', () => {
  const cases: Array<[argv: string[], pick: Pick, want: unknown]> = [
    // -name=value, --name=value, -name value, --name value
    [['-server.http-listen-port=1234'], httpPort, 1234],
    [['--server.http-listen-port=1234'], httpPort, 1234],
    [['-server.http-listen-port', '1234'], httpPort, 1234],
    [['--server.http-listen-port', '1234'], httpPort, 1234],
    [['-server.http-listen-port=0'], httpPort, 0],
    [['-server.http-listen-port=1', '-server.http-listen-port=2'], httpPort, 2], // the last one wins
    // strings: only the first '=' splits, an empty value is a value
    [['-server.http-listen-address=127.0.0.1'], httpAddr, '127.0.0.1'],
    [['-server.http-listen-address=a=b'], httpAddr, 'a=b'],
    [['-server.http-listen-address='], httpAddr, ''],
    [['-server.http-listen-address', '-not-a-flag'], httpAddr, '-not-a-flag'], // as in Go, the next argument is the value
    // booleans: a bare -flag is true; a value needs '='
    [['-server.grpc.keepalive.ping-without-stream-allowed=false'], pingAllowed, false],
    [['--server.grpc.keepalive.ping-without-stream-allowed=false'], pingAllowed, false],
    [['-server.grpc.keepalive.ping-without-stream-allowed=false', '-server.grpc.keepalive.ping-without-stream-allowed'], pingAllowed, true],
    [['-server.grpc.keepalive.ping-without-stream-allowed=false', '-server.grpc.keepalive.ping-without-stream-allowed=true'], pingAllowed, true],
    [['-server.grpc.keepalive.ping-without-stream-allowed=0'], pingAllowed, false],
    [['-server.grpc.keepalive.ping-without-stream-allowed=F'], pingAllowed, false],
    // durations, Go syntax, held in milliseconds
    [['-shutdown-delay=15s'], delay, 15_000],
    [['-shutdown-delay=1m30s'], delay, 90_000],
    [['-shutdown-delay', '500ms'], delay, 500],
    [['-shutdown-delay=0'], delay, 0],
    [['-server.grpc.keepalive.max-connection-age=infinity'], maxAge, Infinity],
    [['-server.grpc.keepalive.max-connection-age=2h'], maxAge, 7_200_000],
    // lists
    [['-target=distributor,ingester'], target, ['distributor', 'ingester']],
    [['-target', 'querier'], target, ['querier']],
    [['-target= distributor , ingester ,'], target, ['distributor', 'ingester']],
    // enums
    [['-log.level=debug'], logLevel, 'debug'],
    // '--' ends the flags
    [['-log.level=warn', '--'], logLevel, 'warn'],
  ];
  for (const [argv, pick, want] of cases) {
    const { config, action } = load(argv);
    assert.deepEqual(pick(config), want, argv.join(' '));
    assert.equal(action, 'run', argv.join(' '));
  }
});

test('flag errors name the flag', () => {
  const cases: Array<[argv: string[], parts: string[]]> = [
    [['-unknown.flag'], ['unknown flag -unknown.flag']],
    [['--unknown.flag=3'], ['unknown flag -unknown.flag']],
    [['-server.http-listen-port=1', '-Server.http-listen-port=2'], ['unknown flag -Server.http-listen-port']],
    // missing values
    [['-server.http-listen-port'], ['-server.http-listen-port', 'needs a value']],
    [['-log.level=info', '-shutdown-delay'], ['-shutdown-delay', 'needs a value']],
    // a boolean never takes the next argument: `-flag false` leaves "false" as an argument (Go's rule)
    [['-server.grpc.keepalive.ping-without-stream-allowed', 'false'], ['unexpected argument "false"']],
    // wrong types
    [['-server.http-listen-port=abc'], ['invalid value for flag -server.http-listen-port', 'integer', '"abc"']],
    [['-server.http-listen-port=1.5'], ['-server.http-listen-port', 'integer']],
    [['-server.http-listen-port='], ['-server.http-listen-port', 'integer']],
    [['-server.http-listen-port=70000'], ['-server.http-listen-port', 'at most 65535']],
    [['-server.grpc-max-concurrent-streams=0'], ['-server.grpc-max-concurrent-streams', 'at least 1']],
    [['-shutdown-delay=15'], ['invalid value for flag -shutdown-delay', 'duration']],
    [['-shutdown-delay=1m30'], ['-shutdown-delay', 'duration']],
    [['-shutdown-delay=-5s'], ['-shutdown-delay', 'negative']],
    [['-server.grpc.keepalive.ping-without-stream-allowed=yes'], ['invalid value for flag -server.grpc.keepalive.ping-without-stream-allowed', 'true or false']],
    [['-server.grpc.keepalive.ping-without-stream-allowed='], ['-server.grpc.keepalive.ping-without-stream-allowed', 'true or false']],
    [['-log.level=verbose'], ['invalid value for flag -log.level', 'debug, info, warn, error', '"verbose"']],
    // positional arguments
    [['extra'], ['unexpected argument "extra"']],
    [['-log.level=warn', 'extra'], ['unexpected argument "extra"']],
    [['--', 'extra'], ['unexpected argument "extra"']],
    [['-'], ['unexpected argument "-"']],
  ];
  for (const [argv, parts] of cases) throwsConfigError(() => load(argv), parts, argv.join(' '));
});

test('component validation errors are wrapped with the component name', () => {
  const cases: Array<[argv: string[], parts: string[]]> = [
    [['-server.graceful-shutdown-timeout=0'], ['invalid server config: ', '-server.graceful-shutdown-timeout must be greater than 0']],
    [['-server.grpc.keepalive.timeout=0s'], ['invalid server config: ', '-server.grpc.keepalive.timeout']],
  ];
  for (const [argv, parts] of cases) throwsConfigError(() => load(argv), parts, argv.join(' '));
  // the same check applies to a value from the file
  throwsConfigError(() => load([], 'server:\n  graceful_shutdown_timeout: 0s\n'), ['invalid server config: ', '-server.graceful-shutdown-timeout'], 'yaml');

  // the wrapper uses the group's name, and validate sees the merged values
  const sch = {
    root: defineGroup('root', { configFile: stringOpt('config.file', null, '', 'File.') }),
    ing: defineGroup('ingester', { n: intOpt('ingester.n', 'ingester.n', 1, 'N.') }, (v) => {
      if (v.n > 3) throw new Error(`-ingester.n must be at most 3, got ${v.n}`);
    }),
  };
  const files = reader({ f: 'ingester:\n  n: 5\n' });
  assert.equal(loadConfig(sch, ['-ingester.n=3']).config.ing.n, 3);
  assert.equal(loadConfig(sch, ['-config.file=f', '-ingester.n=2'], files).config.ing.n, 2); // the flag brings it back in range
  throwsConfigError(() => loadConfig(sch, ['-ingester.n=4']), ['invalid ingester config: -ingester.n must be at most 3, got 4'], 'flag');
  throwsConfigError(() => loadConfig(sch, ['-config.file=f'], files), ['invalid ingester config: -ingester.n must be at most 3, got 5'], 'yaml');
});

test('defaults < YAML < flags, and sources says which', () => {
  const yaml = 'server:\n  http_listen_port: 1111\n  grpc_listen_port: 2222\nshutdown_delay: 5s\n';
  for (const argv of [
    ['-server.http-listen-port=3333'],
    // flags win over the file wherever they stand
    ['-server.http-listen-port=3333', `-config.file=${FILE}`],
  ]) {
    const { config, sources } = loadConfig(schema, [`-config.file=${FILE}`, ...argv], reader({ [FILE]: yaml }));
    const label = argv.join(' ');
    assert.equal(config.server.httpListenPort, 3333, label); // in both: the flag wins
    assert.equal(config.server.grpcListenPort, 2222, label); // only in the file: the file wins
    assert.equal(config.root.shutdownDelay, 5000, label);
    assert.equal(config.server.gracefulShutdownTimeout, 30_000, label); // in neither: the default
    assert.equal(sources.get('server.http-listen-port'), 'flag', label);
    assert.equal(sources.get('server.grpc-listen-port'), 'yaml', label);
    assert.equal(sources.get('shutdown-delay'), 'yaml', label);
    assert.equal(sources.get('config.file'), 'flag', label);
    assert.equal(sources.get('server.graceful-shutdown-timeout'), 'default', label);
  }

  // with nothing given every value is the default, and sources has every flag
  const { config, sources } = load([]);
  assert.deepEqual(config, defaultsOf(schema));
  assert.deepEqual([...sources.keys()].sort(), optionsOf(schema).map((r) => r.option.flag).sort());
  for (const [flag, src] of sources) assert.equal(src, 'default', flag);

  // a value set to its default is still reported as set
  assert.equal(load(['-server.http-listen-port=8080']).sources.get('server.http-listen-port'), 'flag');
  assert.equal(load([], 'server:\n  http_listen_port: 8080\n').sources.get('server.http-listen-port'), 'yaml');
});

test('YAML values', () => {
  const cases: Array<[yaml: string, pick: Pick, want: unknown]> = [
    ['server:\n  http_listen_port: 1234\n', httpPort, 1234],
    ['server:\n  http_listen_address: 127.0.0.1\n', httpAddr, '127.0.0.1'],
    ['server:\n  grpc_server_ping_without_stream_allowed: false\n', pingAllowed, false],
    ['shutdown_delay: 1m30s\n', delay, 90_000],
    ['shutdown_delay: 0\n', delay, 0], // a bare 0 is a duration, as in Mimir
    ['shutdown:\n  termination_grace_period: 45s\n', (c) => c.root.terminationGracePeriod, 45_000],
    ['server:\n  grpc_server_max_connection_age: infinity\n', maxAge, Infinity],
    ['target: distributor,ingester\n', target, ['distributor', 'ingester']],
    ['target: [distributor, ingester]\n', target, ['distributor', 'ingester']],
    ['target:\n  - querier\n', target, ['querier']],
    ['server:\n  log_level: debug\n', logLevel, 'debug'],
    // empty documents and sections, and null values, leave the defaults
    ['', httpPort, 8080],
    ['# nothing but a comment\n', httpPort, 8080],
    ['server:\n', httpPort, 8080],
    ['server:\nshutdown:\n', delay, 0],
    ['server: {}\n', httpPort, 8080],
    ['server:\n  http_listen_port:\n', httpPort, 8080],
    ['server:\n  http_listen_port: null\n', httpPort, 8080],
    ['server:\n  http_listen_port: ~\n', httpPort, 8080],
    ['server:\n  grpc_server_ping_without_stream_allowed: null\n', pingAllowed, true],
    // regression: an alias stands for its anchored value (it used to be read as a map)
    ['shutdown_delay: &d 5s\nserver:\n  graceful_shutdown_timeout: *d\n', (c) => c.server.gracefulShutdownTimeout, 5000],
  ];
  for (const [yaml, pick, want] of cases) assert.deepEqual(pick(load([], yaml).config), want, JSON.stringify(yaml));
});

test('YAML errors name the key and line', () => {
  const cases: Array<[yaml: string, parts: string[]]> = [
    ['nope: 1\n', ['unknown key nope (line 1)']],
    ['server:\n  http_listen_port: 1\n  nope: 2\n', ['unknown key server.nope (line 3)']],
    ['shutdown:\n  nope:\n', ['unknown key shutdown.nope (line 2)']],
    ['server:\n  http_listen_port: 1\n  shutdown_delay: 5s\n', ['unknown key server.shutdown_delay (line 3)']],
    // regression: a dotted key is not a path (it used to set server.http_listen_port)
    ['server.http_listen_port: 1\n', ['unknown key server.http_listen_port (line 1)']],
    ['server:\n  http_listen_port: 1\nserver.http_listen_port: 2\n', ['unknown key server.http_listen_port (line 3)']],
    // wrong types
    ['server:\n  http_listen_port: abc\n', ['server.http_listen_port (line 2)', 'integer']],
    ['server:\n  http_listen_port: 1.5\n', ['server.http_listen_port', 'integer']],
    ['server:\n  http_listen_port: 70000\n', ['server.http_listen_port', 'at most 65535']],
    ['server:\n  http_listen_port: [1]\n', ['server.http_listen_port', 'a list']],
    ['server:\n  grpc_server_ping_without_stream_allowed: "true"\n', ['server.grpc_server_ping_without_stream_allowed', 'true or false']],
    ['server:\n  grpc_server_ping_without_stream_allowed: yes\n', ['server.grpc_server_ping_without_stream_allowed', 'true or false']],
    ['server:\n  grpc_server_ping_without_stream_allowed: 1\n', ['server.grpc_server_ping_without_stream_allowed', 'true or false']],
    ['shutdown_delay: 5\n', ['shutdown_delay (line 1)', 'duration']],
    ['shutdown_delay: 5x\n', ['shutdown_delay', 'duration']],
    ['shutdown_delay: -5s\n', ['shutdown_delay', 'negative']],
    ['server:\n  http_listen_port: &p 8080\n  graceful_shutdown_timeout: *p\n', ['server.graceful_shutdown_timeout (line 3)', 'duration']],
    ['server:\n  log_level: verbose\n', ['server.log_level (line 2)', 'debug, info, warn, error']],
    ['target: {a: 1}\n', ['target', 'list']],
    ['target: [1, 2]\n', ['target', 'list']],
    ['server: 5\n', ['server (line 1) must be a map']],
    ['server:\n  - http_listen_port\n', ['server (line 2) must be a map']],
    ['- a\n', ['the document (line 1) must be a map']],
    ['just a string\n', ['the document (line 1) must be a map']],
    // duplicate keys, and broken YAML; regression: the line used to be left out
    ['server:\n  http_listen_port: 1\n  http_listen_port: 2\n', ['line 3', 'unique']],
    ['target: all\ntarget: querier\n', ['line 2', 'unique']],
    ['server:\n  http_listen_port: [\n', ['line ']],
    ['target: all\n---\ntarget: querier\n', ['multiple documents']],
  ];
  for (const [yaml, parts] of cases) throwsConfigError(() => load([], yaml), [`config file "${FILE}"`, ...parts], JSON.stringify(yaml));
});

test('the config file', () => {
  // an unreadable file names -config.file and the path
  throwsConfigError(() => loadConfig(schema, ['-config.file=/no/such.yaml'], reader({})), ['-config.file', '"/no/such.yaml"', 'ENOENT'], 'injected');
  const dir = mkdtempSync(join(tmpdir(), 'muninn-config-'));
  try {
    const missing = join(dir, 'missing.yaml');
    throwsConfigError(() => loadConfig(schema, [`-config.file=${missing}`]), ['-config.file', missing], 'fs');
    throwsConfigError(() => loadConfig(schema, [`-config.file=${dir}`]), ['-config.file', dir], 'a directory');
    // the default reader reads the file from disk
    const file = join(dir, 'muninn.yaml');
    writeFileSync(file, 'server:\n  http_listen_port: 4321\n');
    assert.equal(loadConfig(schema, ['-config.file', file]).config.server.httpListenPort, 4321);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // the last -config.file wins; an empty one reads nothing
  const files = reader({ a: 'shutdown_delay: 1s\n', b: 'shutdown_delay: 2s\n' });
  assert.equal(loadConfig(schema, ['-config.file=a', '-config.file=b'], files).config.root.shutdownDelay, 2000);
  assert.equal(loadConfig(schema, ['-config.file=a', '-config.file='], files).config.root.shutdownDelay, 0);
  let reads = 0;
  loadConfig(schema, ['-config.file='], () => {
    reads++;
    return '';
  });
  assert.equal(reads, 0);
});

test('-help, -version and -modules', () => {
  const cases: Array<[argv: string[], action: LoadResult<typeof schema>['action']]> = [
    [[], 'run'],
    [['-help'], 'help'],
    [['--help'], 'help'],
    [['-h'], 'help'],
    [['-version'], 'version'],
    [['--version'], 'version'],
    [['-modules'], 'modules'],
    [['-target=querier', '-modules'], 'modules'],
    [['-version', '-help'], 'version'], // the first one counts
    // regression: -help and -version print even when the values would not run
    [['-help', '-server.graceful-shutdown-timeout=0'], 'help'],
    [['-server.graceful-shutdown-timeout=0', '-version'], 'version'],
  ];
  for (const [argv, action] of cases) assert.equal(load(argv).action, action, argv.join(' '));
  // flags that cannot be parsed are still errors
  throwsConfigError(() => load(['-help', '-unknown.flag']), ['unknown flag -unknown.flag'], 'help + unknown');
  throwsConfigError(() => load(['-version', '-server.http-listen-port=x']), ['-server.http-listen-port'], 'version + bad value');
});

test('loaded configs do not share list defaults', () => {
  const a = load([]).config;
  a.root.target.push('ingester');
  assert.deepEqual(load([]).config.root.target, ['all']);
  assert.deepEqual(schema.root.options.target.def, ['all']);
});
