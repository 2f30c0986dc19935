// `npm run test:rollout -- --duration S [--kill] [--out FILE]`: the rollout test (runner.ts).
// Prints progress on stderr and the JSON report on stdout (and to --out); exits 0 only if the
// report says ok, 1 if not, 2 on bad arguments, 3 if etcd, haproxy or prometheus is missing.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { missingTools, ROLLOUT_STEPS, type RolloutStep, runRollout } from './runner.js';

const USAGE = `Usage: npm run test:rollout -- --duration S [--kill] [--out FILE] [options]

Starts etcd, 3 ingesters (RF 3), 2 distributors, 1 querier and HAProxy; loads them with the
continuous test and a Prometheus scraping the cluster every second and remote-writing through
HAProxy; restarts every process in turn for S seconds (at least one full round); then checks that
nothing acknowledged was lost, no write got a 4xx, Prometheus failed/dropped nothing and stores the
same samples as Muninn, every SIGTERM ended in exit 0 within 15 s, and no log has a fatal or
unhandled error. JSON report on stdout; exit code 0 only if it passed.

  --duration S           seconds of restarts (default 120)
  --kill                 SIGKILL the ingesters instead of SIGTERM (WAL replay + replicas), and
                         each round also SIGKILLs every ingester at once (WAL replay alone)
  --rounds N             at least N full rounds (default 1)
  --steps LIST           the steps of a round, comma-separated, from: ingesters, all-ingesters,
                         distributors, queriers (default: all but all-ingesters; all with --kill)
  --ingester-flag F      an extra flag for the ingesters (repeatable)
  --distributor-flag F   an extra flag for the distributors (repeatable)
  --out FILE             write the report there too
  --series N             continuous-test series (default 4000)
  --write-interval MS    continuous-test write interval in ms (default 500)
  --write-concurrency N  continuous-test writers (default 4)
  --write-batch-size N   series per write request (default 1000)
  --write-rate N         samples/s cap (default 0: none)
  --pause MS             pause between two restarts (default 2000)
  --verbose              forward every process log line to stderr
  --help
`;

async function main(argv: string[]): Promise<number> {
  let v;
  try {
    ({ values: v } = parseArgs({
      args: argv,
      strict: true,
      options: {
        duration: { type: 'string' },
        kill: { type: 'boolean' },
        rounds: { type: 'string' },
        steps: { type: 'string' },
        'ingester-flag': { type: 'string', multiple: true },
        'distributor-flag': { type: 'string', multiple: true },
        out: { type: 'string' },
        series: { type: 'string' },
        'write-interval': { type: 'string' },
        'write-concurrency': { type: 'string' },
        'write-batch-size': { type: 'string' },
        'write-rate': { type: 'string' },
        pause: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (v.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const num = (name: string, s: string | undefined, min: number): number | undefined => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got "${s}"`);
    return n;
  };
  let opts;
  try {
    opts = {
      durationS: num('duration', v.duration, 0) ?? 120,
      kill: v.kill ?? false,
      rounds: num('rounds', v.rounds, 1),
      steps: v.steps === undefined ? undefined : v.steps.split(',').map((x) => {
        const st = x.trim();
        if (!(ROLLOUT_STEPS as readonly string[]).includes(st)) throw new Error(`--steps: unknown step "${st}" (known: ${ROLLOUT_STEPS.join(', ')})`);
        return st as RolloutStep;
      }),
      extraArgs: { ingester: v['ingester-flag'] ?? [], distributor: v['distributor-flag'] ?? [] },
      series: num('series', v.series, 1),
      writeIntervalMs: num('write-interval', v['write-interval'], 1),
      writeConcurrency: num('write-concurrency', v['write-concurrency'], 1),
      writeBatchSize: num('write-batch-size', v['write-batch-size'], 1),
      writeRate: num('write-rate', v['write-rate'], 0),
      pauseMs: num('pause', v.pause, 0),
      verbose: v.verbose ?? false,
    };
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const missing = missingTools();
  if (missing !== null) {
    process.stderr.write(`cannot run the rollout test: ${missing}\n`);
    return 3;
  }
  const report = await runRollout({ ...opts, log: (l) => process.stderr.write(`${l}\n`) });
  const json = JSON.stringify(report, null, 2);
  process.stdout.write(`${json}\n`);
  if (v.out !== undefined) writeFileSync(v.out, `${json}\n`);
  process.stderr.write(report.ok
    ? `rollout test PASSED in ${report.elapsedS.toFixed(0)} s (${report.restarts.length} restarts)\n`
    : `rollout test FAILED in ${report.elapsedS.toFixed(0)} s:\n  ${report.failures.join('\n  ')}\n`);
  return report.ok ? 0 : 1;
}

// A signal ends the run at once; the exit hooks (cluster-helpers, haproxy, etcd, procgroup) kill
// every process started.
let signalled = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (signalled) return;
    signalled = true;
    process.stderr.write(`${sig}: killing everything\n`);
    process.exit(130);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
