// `npm run cluster`: a local Muninn cluster of real processes, as in production but on loopback:
// etcd, 3 ingesters (RF 3, data and tokens files under ./data/cluster/<id>), 2 distributors,
// 1 querier, and HAProxy in front of the distributors and the querier, health-checking /ready.
// Prints the endpoints, forwards warnings and errors (everything with --verbose), and on Ctrl-C
// (SIGINT) or SIGTERM stops everything cleanly in order (distributors and querier, ingesters,
// HAProxy, etcd) and exits 0. A second Ctrl-C kills everything at once and exits 1.
//
//   npm run cluster                      # fixed ports: gateway :8080, stats :8404, nodes :8100..
//   npm run cluster -- --verbose --ports=auto --shutdown-delay=5s --flag=ingester:-log.level=debug
//   npm run cluster -- --help
//
// The processes run in a process group of their own, under a supervisor child of this process
// (a terminal's Ctrl-C goes to the whole foreground group; it must reach this process only, or
// every process would start its shutdown at once, etcd included). Tests use the same launcher
// through its API (scripts/cluster/launcher.ts): `start({ ports: 'auto' })`.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isEntryPoint } from '../src/util/entry-point.js';
import { parseDuration } from '../src/util/duration.js';
import { DEFAULT_PORTS, type LaunchedCluster, type LaunchOptions, start } from './cluster/launcher.js';

export { DEFAULT_PORTS, start } from './cluster/launcher.js';
export type { ClusterEndpoints, FixedPorts, LaunchedCluster, LaunchOptions, NodeEndpoint, NodeRole, StopReport } from './cluster/launcher.js';
export { haproxyAvailable, haproxyBinary, parseStatsCsv, renderHaproxyConfig } from './cluster/haproxy.js';
export type { Haproxy, HealthCheck, ServerStat } from './cluster/haproxy.js';

const USAGE = `Usage: npm run cluster -- [options]

A local Muninn cluster: etcd, ingesters, distributors, queriers, and HAProxy in front of the
distributors (remote write) and queriers (Prometheus API), health-checking GET /ready.
Ctrl-C stops everything in order and exits 0; a second Ctrl-C kills everything.

  --ingesters=N                  ingesters (default 3)
  --distributors=N               distributors (default 2)
  --queriers=N                   queriers (default 1)
  --replication-factor=N         -ingester.ring.replication-factor (default 3)
  --data-dir=DIR                 nodes' data: DIR/<id>/tsdb and DIR/<id>/tokens (default ./data/cluster)
  --clean                        remove the data dir first
  --ports=fixed|auto             fixed well-known ports (default) or free ones
  --gateway-port=N               HAProxy gateway: /api/v1/push and /prometheus (default ${DEFAULT_PORTS.gateway})
  --stats-port=N                 HAProxy stats page (default ${DEFAULT_PORTS.stats})
  --port-base=N                  ingester i: HTTP N+i; distributors N+100+i; queriers N+200+i;
                                 gRPC = HTTP + 1000 (default ${DEFAULT_PORTS.ingester})
  --shutdown-delay=D             -shutdown-delay of every process (default 2s)
  --graceful-shutdown-timeout=D  -server.graceful-shutdown-timeout (default 10s)
  --termination-grace-period=D   -shutdown.termination-grace-period; SIGKILL after it (default 20s)
  --grpc-max-connection-age=D    -server.grpc.keepalive.max-connection-age (default: infinite)
  --grpc-max-connection-age-grace=D, --grpc-max-connection-idle=D   the same for -grace, -idle
  --heartbeat-period=D, --heartbeat-timeout=D   both rings (default 1s, 5s)
  --check-interval=D             HAProxy's /ready check interval (default 1s)
  --check-fall=N, --check-rise=N failed / passed checks to leave / rejoin the rotation (default 1, 1)
  --flag=ROLE:FLAG               an extra Muninn flag for ROLE (all, ingester, distributor, querier);
                                 repeatable, e.g. --flag=all:-log.level=debug
  --verbose, -v                  forward every log line (default: warnings and errors)
  --help, -h                     this text
`;

interface Cli {
  opts: LaunchOptions;
  clean: boolean;
  help: boolean;
  noDetach: boolean;
}

/** Parses the command line into launcher options; throws a message for the user on bad input. */
export function parseCli(argv: readonly string[]): Cli {
  const { values: v } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      ingesters: { type: 'string' },
      distributors: { type: 'string' },
      queriers: { type: 'string' },
      'replication-factor': { type: 'string' },
      'data-dir': { type: 'string' },
      clean: { type: 'boolean' },
      ports: { type: 'string' },
      'gateway-port': { type: 'string' },
      'stats-port': { type: 'string' },
      'port-base': { type: 'string' },
      'shutdown-delay': { type: 'string' },
      'graceful-shutdown-timeout': { type: 'string' },
      'termination-grace-period': { type: 'string' },
      'grpc-max-connection-age': { type: 'string' },
      'grpc-max-connection-age-grace': { type: 'string' },
      'grpc-max-connection-idle': { type: 'string' },
      'heartbeat-period': { type: 'string' },
      'heartbeat-timeout': { type: 'string' },
      'check-interval': { type: 'string' },
      'check-fall': { type: 'string' },
      'check-rise': { type: 'string' },
      flag: { type: 'string', multiple: true },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
      'no-detach': { type: 'boolean' },
    },
  });
  const int = (name: string, s: string | undefined, min: number): number | undefined => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${s}"`);
    return n;
  };
  const durationMs = (name: string, s: string | undefined): number | undefined => {
    if (s === undefined) return undefined;
    try {
      return parseDuration(s);
    } catch {
      throw new Error(`--${name} must be a duration like 500ms, 1s or 1m30s, got "${s}"`);
    }
  };
  const args: NonNullable<LaunchOptions['args']> = {};
  for (const f of v.flag ?? []) {
    const colon = f.indexOf(':');
    const role = f.slice(0, colon);
    const flag = f.slice(colon + 1);
    if (colon < 0 || !['all', 'ingester', 'distributor', 'querier'].includes(role) || !flag.startsWith('-')) {
      throw new Error(`--flag must be ROLE:-flag=value with ROLE one of all, ingester, distributor, querier; got "${f}"`);
    }
    (args[role as keyof typeof args] ??= []).push(flag);
  }
  const portsMode = v.ports ?? 'fixed';
  if (portsMode !== 'fixed' && portsMode !== 'auto') throw new Error(`--ports must be fixed or auto, got "${portsMode}"`);
  const base = int('port-base', v['port-base'], 1) ?? DEFAULT_PORTS.ingester;
  const checkInterval = durationMs('check-interval', v['check-interval']);
  const opts: LaunchOptions = {
    ingesters: int('ingesters', v.ingesters, 1),
    distributors: int('distributors', v.distributors, 1),
    queriers: int('queriers', v.queriers, 1),
    replicationFactor: int('replication-factor', v['replication-factor'], 1),
    dataDir: v['data-dir'] ?? 'data/cluster',
    removeDataDir: false,
    ports: portsMode === 'auto' ? 'auto' : {
      gateway: int('gateway-port', v['gateway-port'], 1) ?? DEFAULT_PORTS.gateway,
      stats: int('stats-port', v['stats-port'], 1) ?? DEFAULT_PORTS.stats,
      ingester: base,
      distributor: base + 100,
      querier: base + 200,
    },
    shutdownDelay: v['shutdown-delay'],
    gracefulShutdownTimeout: v['graceful-shutdown-timeout'],
    terminationGracePeriod: v['termination-grace-period'],
    keepalive: {
      maxConnectionAge: v['grpc-max-connection-age'],
      maxConnectionAgeGrace: v['grpc-max-connection-age-grace'],
      maxConnectionIdle: v['grpc-max-connection-idle'],
    },
    heartbeatPeriod: v['heartbeat-period'],
    heartbeatTimeout: v['heartbeat-timeout'],
    healthCheck: {
      ...(checkInterval !== undefined ? { intervalMs: checkInterval, timeoutMs: checkInterval } : {}),
      ...(v['check-fall'] !== undefined ? { fall: int('check-fall', v['check-fall'], 1) } : {}),
      ...(v['check-rise'] !== undefined ? { rise: int('check-rise', v['check-rise'], 1) } : {}),
    },
    args,
    verbose: v.verbose ?? false,
    maxLogLines: 2000,
  };
  if (opts.ingesters !== undefined && opts.ingesters < (opts.replicationFactor ?? 3)) {
    throw new Error(`--ingesters (${opts.ingesters}) must be at least the replication factor (${opts.replicationFactor ?? 3})`);
  }
  return { opts, clean: v.clean ?? false, help: v.help ?? false, noDetach: v['no-detach'] ?? false };
}

/** The text printed once the cluster is up. */
export function describe(c: LaunchedCluster, tookMs: number, cwd = process.cwd()): string {
  const e = c.endpoints;
  const rf = c.ingesters[0]?.args.find((a) => a.startsWith('-ingester.ring.replication-factor='))?.split('=')[1] ?? '3';
  const rel = (p: string): string => {
    const r = relative(cwd, p);
    return r === '' || r.startsWith('..') ? p : r;
  };
  const rows = e.nodes.map((n) => `  ${n.id.padEnd(15)}${n.http.padEnd(26)}${n.grpc.padEnd(18)}${n.role === 'ingester' ? rel(n.dataDir) : ''}`);
  const d0 = e.nodes.find((n) => n.role === 'distributor')?.http ?? '';
  return [
    '',
    `Muninn cluster ready in ${(tookMs / 1000).toFixed(1)} s: ${c.ingesters.length} ingesters (RF ${rf}), ${c.distributors.length} distributors, ${c.queriers.length} querier${c.queriers.length === 1 ? '' : 's'}, etcd, HAProxy.`,
    '',
    `  remote write     ${e.write}   (HAProxy -> distributors; send X-Scope-OrgID)`,
    `  Prometheus API   ${e.query}   (HAProxy -> queriers; Grafana/promtool URL)`,
    `  HAProxy stats    ${e.stats}`,
    `  etcd             ${e.etcd}`,
    '',
    `  ${'node'.padEnd(15)}${'http'.padEnd(26)}${'grpc'.padEnd(18)}data`,
    ...rows,
    '',
    `  rings: ${d0}/ingester/ring  ${d0}/distributor/ring`,
    `  try:   curl -H 'X-Scope-OrgID: demo' '${e.query}/api/v1/query?query=up'`,
    '',
    'Logs: warnings and errors (--verbose: everything). Ctrl-C stops everything in order; twice kills it.',
    '',
  ].join('\n');
}

const out = (s: string): void => {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
};

/** The supervisor: runs the cluster, stops it on the first signal, kills it on a second one. */
async function runCluster(cli: Cli): Promise<number> {
  let cluster: LaunchedCluster | null = null;
  let stopRequested = false;
  let signals = 0;
  let stopping: Promise<number> | null = null;
  const stop = (): Promise<number> => {
    stopping ??= (async () => {
      if (cluster === null) return 1;
      out('\nstopping the cluster: distributors and queriers, then ingesters, then HAProxy and etcd (Ctrl-C again to kill)');
      const r = await cluster.stop();
      if (!r.clean) {
        out(`not every process exited 0: ${Object.entries(r.exits).map(([id, x]) => `${id}=${x.signal ?? x.code}`).join(' ')}`);
        return 1;
      }
      out('stopped: every process exited 0');
      return 0;
    })();
    return stopping;
  };
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => { resolveDone = r; });
  const onSignal = (why: string): void => {
    signals++;
    if (signals > 1) {
      out(`${why} again: killing everything`);
      // the exit hooks of the node, etcd and HAProxy helpers SIGKILL what is left
      process.exit(1);
    }
    stopRequested = true;
    if (cluster !== null) void stop().then(resolveDone);
    else out(`${why}: stopping as soon as the start is over (again to kill)`);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // started by the parent with an IPC channel: if the parent goes away, stop
  process.on('disconnect', () => onSignal('parent gone'));

  const opts: LaunchOptions = { ...cli.opts, log: out };
  if (cli.clean && opts.dataDir !== undefined) rmSync(resolve(opts.dataDir), { recursive: true, force: true });
  const t0 = Date.now();
  out(`starting etcd, ${opts.ingesters ?? 3} ingesters, ${opts.distributors ?? 2} distributors, ${opts.queriers ?? 1} queriers and HAProxy ...`);
  try {
    cluster = await start(opts);
  } catch (e) {
    out(`the cluster did not start: ${(e as Error).message}`);
    return 1;
  }
  out(describe(cluster, Date.now() - t0));
  if (stopRequested) void stop().then(resolveDone);
  return done;
}

/** The parent: starts the supervisor in a process group of its own and forwards signals to it. */
function runDetached(argv: readonly string[]): Promise<number> {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [script, ...argv], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, MUNINN_CLUSTER_SUPERVISED: '1' },
  });
  let first = 0;
  const forward = (): void => {
    const now = Date.now();
    // a terminal's Ctrl-C reaches npm, the shell and this process; npm forwards it once more
    if (first !== 0 && now - first < 1000) return;
    if (first === 0) first = now;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  return new Promise((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit(code ?? (signal !== null ? 1 : 0)));
    child.once('error', (e) => {
      process.stderr.write(`cannot start the cluster supervisor: ${e.message}\n`);
      resolveExit(1);
    });
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  let cli: Cli;
  try {
    cli = parseCli(argv);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (cli.help) {
    out(USAGE);
    return 0;
  }
  if (process.env.MUNINN_CLUSTER_SUPERVISED !== '1' && !cli.noDetach) return runDetached(argv);
  return runCluster(cli);
}

if (isEntryPoint(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
