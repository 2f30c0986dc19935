// checkShutdownBudget: shutdown-delay + graceful-shutdown-timeout + 1s must fit in the termination
// grace period (when one is given), and a finite gRPC max-connection-age that does not move clients
// away within the shutdown delay earns a warning.
import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkShutdownBudget, schema, type MuninnConfig } from '../../src/app/config.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';

function config(argv: readonly string[]): MuninnConfig {
  return loadConfig(schema, argv, () => '').config;
}

const grace = (d: string): string => `-shutdown.termination-grace-period=${d}`;
const delay = (d: string): string => `-shutdown-delay=${d}`;
const drain = (d: string): string => `-server.graceful-shutdown-timeout=${d}`;

test('rejects a shutdown that does not fit in the termination grace period', () => {
  // [argv, the sum the message reports, the grace period it reports]
  const cases: Array<[argv: string[], sum: string, limit: string]> = [
    [[grace('10s'), delay('5s'), drain('5s')], '11s', '10s'],
    [[grace('30s')], '31s', '30s'], // the default 30s drain alone does not fit in 30s
    [[grace('10s'), drain('9001ms')], '10.001s', '10s'], // 1 ms over
    [[grace('1m'), delay('1m')], '1m31s', '1m0s'],
    [[grace('1h'), delay('infinity')], '2562047h47m16.854775807s', '1h0m0s'],
  ];
  for (const [argv, sum, limit] of cases) {
    const label = argv.join(' ');
    const cfg = config(argv);
    assert.throws(() => checkShutdownBudget(cfg), (e: unknown) => {
      assert.ok(e instanceof ConfigError, `${label}: ${String(e)}`);
      const m = e.message;
      for (const part of [
        `-shutdown-delay (`,
        `-server.graceful-shutdown-timeout (`,
        `-shutdown.termination-grace-period (${limit})`,
        `= ${sum}`,
        // what to change
        'Lower -shutdown-delay or -server.graceful-shutdown-timeout, or raise the termination grace period',
      ]) {
        assert.ok(m.includes(part), `${label}: ${JSON.stringify(m)} should contain ${JSON.stringify(part)}`);
      }
      return true;
    }, label);
  }
  // the values themselves are in the message
  assert.throws(() => checkShutdownBudget(config([grace('10s'), delay('5s'), drain('5s')])),
    /-shutdown-delay \(5s\) \+ -server\.graceful-shutdown-timeout \(5s\) \+ 1s .*= 11s, more than -shutdown\.termination-grace-period \(10s\)/);
});

test('accepts a shutdown that fits, and skips the check without a grace period', () => {
  const cases: string[][] = [
    [grace('11s'), delay('5s'), drain('5s')], // an exact fit
    [grace('31s')], // an exact fit with the default drain
    [grace('10s'), drain('9s')],
    [grace('1h'), delay('10m'), drain('30s')],
    [], // no grace period given (0): nothing to check against
    [grace('0s'), delay('1h'), drain('1h')],
    [delay('infinity')],
  ];
  for (const argv of cases) assert.deepEqual(checkShutdownBudget(config(argv)), [], argv.join(' '));
});

test('warns when gRPC connections outlive the shutdown delay', () => {
  const age = (d: string): string => `-server.grpc.keepalive.max-connection-age=${d}`;
  const ageGrace = (d: string): string => `-server.grpc.keepalive.max-connection-age-grace=${d}`;
  const cases: Array<[argv: string[], warn: boolean]> = [
    [[], false], // the default age is infinite: no GOAWAY, nothing to compare
    [[age('infinity'), delay('10s')], false],
    [[age('0s'), delay('10s')], false], // 0 is "not set"
    [[age('10s'), ageGrace('5s'), delay('16s')], true], // age + 10% jitter + grace = 16s: not below
    [[age('10s'), ageGrace('5s'), delay('16001ms')], false], // just above the jittered sum
    [[age('10s'), ageGrace('5s'), delay('1m')], false],
    [[age('10s'), ageGrace('5s'), delay('15s')], true], // equal is not below
    [[age('30s'), ageGrace('10s'), delay('20s')], true],
    [[age('5m')], true], // with no shutdown delay at all
    // an infinite grace (the default) makes the sum infinite: calls begun before the GOAWAY may
    // keep the old connection open until the listener closes
    [[age('10s'), delay('11s')], true],
    [[age('10s'), delay('10s')], true],
    [[age('10s'), ageGrace('infinity'), delay('1h')], true],
  ];
  for (const [argv, warn] of cases) {
    const label = argv.join(' ');
    const warnings = checkShutdownBudget(config(argv));
    assert.equal(warnings.length, warn ? 1 : 0, `${label}: ${JSON.stringify(warnings)}`);
    if (warn) {
      for (const part of ['-server.grpc.keepalive.max-connection-age (', '-server.grpc.keepalive.max-connection-age-grace (', '-shutdown-delay (', 'Raise -shutdown-delay']) {
        assert.ok(warnings[0]?.includes(part), `${label}: ${JSON.stringify(warnings[0])} should contain ${JSON.stringify(part)}`);
      }
    }
  }
  assert.match(checkShutdownBudget(config([age('30s'), ageGrace('10s'), delay('20s')]))[0] ?? '',
    /max-connection-age \(30s\) \+ -server\.grpc\.keepalive\.max-connection-age-grace \(10s\) \(with grpc-js's \+10% age jitter: 43s\) is not below -shutdown-delay \(20s\)/);
});

test('a budget that fits can still warn; one that does not fit throws before warning', () => {
  const argv = [grace('1m'), delay('10s'), drain('20s'), '-server.grpc.keepalive.max-connection-age=30s'];
  assert.equal(checkShutdownBudget(config(argv)).length, 1);
  assert.throws(() => checkShutdownBudget(config([...argv, drain('50s')])), ConfigError);
});
