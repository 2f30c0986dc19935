// renderYaml: the config in the shape of the config file (as GET /config serves it), in full, as
// defaults, or as the diff against the defaults; what it renders loads back to the same config.
import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { schema, type MuninnConfig } from '../../src/app/config.js';
import { defaultsOf, loadConfig, optionsOf, renderYaml, type ConfigMode } from '../../src/config/index.js';

function config(argv: readonly string[]): MuninnConfig {
  return loadConfig(schema, argv, () => '').config;
}

/** Loads YAML text as the config file; -config.file itself is reset so configs compare. */
function fromYaml(text: string): MuninnConfig {
  const cfg = loadConfig(schema, ['-config.file=rendered.yaml'], () => text).config;
  cfg.root.configFile = '';
  return cfg;
}

test('diff shows only the changed values, in the YAML shape', () => {
  const cases: Array<[argv: string[], yaml: string]> = [
    [[], '{}\n'],
    [['-server.http-listen-port=1234'], 'server:\n  http_listen_port: 1234\n'],
    [['-server.http-listen-port=8080'], '{}\n'], // set, but to the default
    [['-shutdown-delay=2m'], 'shutdown_delay: 2m0s\n'],
    [['-shutdown.termination-grace-period=30s'], 'shutdown:\n  termination_grace_period: 30s\n'],
    [['-target=distributor,ingester'], 'target: distributor,ingester\n'],
    [['-server.grpc.keepalive.ping-without-stream-allowed=false'], 'server:\n  grpc_server_ping_without_stream_allowed: false\n'],
    [['-server.grpc.keepalive.max-connection-age=5m'], 'server:\n  grpc_server_max_connection_age: 5m0s\n'],
    [['-server.http-listen-address=127.0.0.1'], 'server:\n  http_listen_address: 127.0.0.1\n'],
    [['-log.level=debug'], 'server:\n  log_level: debug\n'],
    [['-config.file='], '{}\n'], // flag-only options are not part of the file
    [
      ['-log.level=warn', '-shutdown-delay=5s', '-server.http-listen-port=1234'],
      // declaration order, nested under each section
      'shutdown_delay: 5s\nserver:\n  http_listen_port: 1234\n  log_level: warn\n',
    ],
  ];
  for (const [argv, yaml] of cases) assert.equal(renderYaml(schema, config(argv), 'diff'), yaml, argv.join(' '));
});

test('defaults ignores the values; with nothing set it equals full', () => {
  const defaults = renderYaml(schema, defaultsOf(schema), 'defaults');
  assert.equal(renderYaml(schema, defaultsOf(schema), 'full'), defaults);
  assert.equal(renderYaml(schema, config([]), 'full'), defaults);
  const changed = config(['-server.http-listen-port=1234', '-shutdown-delay=2m']);
  assert.equal(renderYaml(schema, changed, 'defaults'), defaults);
  assert.notEqual(renderYaml(schema, changed, 'full'), defaults);
  assert.match(renderYaml(schema, changed, 'full'), /^ {2}http_listen_port: 1234$/m);
});

test('full holds every option with a YAML path, durations written the Go way', () => {
  const text = renderYaml(schema, defaultsOf(schema), 'full');
  const doc = parse(text) as Record<string, unknown>;
  for (const { option } of optionsOf(schema)) {
    if (option.yaml === null) {
      assert.ok(!text.includes(option.flag), `flag-only -${option.flag} rendered`);
      continue;
    }
    let node: unknown = doc;
    for (const part of option.yaml.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
    assert.deepEqual(node, option.toYaml(option.def), option.yaml);
  }
  for (const line of [
    'shutdown_delay: 0s',
    '  termination_grace_period: 0s',
    '  graceful_shutdown_timeout: 30s',
    '  http_server_write_timeout: 2m0s',
    '  grpc_server_keepalive_time: 2h0m0s',
    '  grpc_server_max_connection_age: 2562047h47m16.854775807s', // infinity, as Mimir prints it
    'target: all',
    '  http_listen_address: ""',
    '  grpc_server_ping_without_stream_allowed: true',
  ]) {
    assert.ok(text.split('\n').includes(line), `missing line ${JSON.stringify(line)} in:\n${text}`);
  }
});

test('what renderYaml writes loads back to the same config', () => {
  const cases: string[][] = [
    [],
    ['-server.http-listen-port=1234', '-server.grpc-listen-port=0', '-log.level=error'],
    ['-target=distributor,ingester', '-shutdown-delay=1m30s', '-shutdown.termination-grace-period=10m'],
    ['-target='], // an empty list
    ['-server.grpc.keepalive.max-connection-age=5m', '-server.grpc.keepalive.max-connection-age-grace=infinity'],
    ['-server.grpc.keepalive.max-connection-idle=1.5ms', '-shutdown-delay=250us'], // below a millisecond
    ['-server.grpc.keepalive.ping-without-stream-allowed=false', '-server.http-read-timeout=0s'],
    // strings that YAML would read as something else unless quoted
    ['-server.http-listen-address=true'],
    ['-server.http-listen-address=8080'],
    ['-server.http-listen-address=null'],
    ['-server.http-listen-address=~'],
    ['-server.http-listen-address=a: b #c'],
    ['-server.grpc-listen-address=[::1]'],
  ];
  for (const argv of cases) {
    const want = config(argv);
    for (const mode of ['full', 'diff'] satisfies ConfigMode[]) {
      const text = renderYaml(schema, want, mode);
      assert.deepEqual(fromYaml(text), want, `${argv.join(' ')} (${mode}):\n${text}`);
    }
  }
});
