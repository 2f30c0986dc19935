// The ingesters' ring options: Mimir's flag names (-ingester.ring.*), YAML keys (ingester.ring.*,
// the store under ingester.ring.kvstore) and defaults, except where noted:
// - -ingester.ring.store: Mimir defaults to memberlist; Muninn has inmemory (one process) and etcd,
//   and defaults to inmemory.
// - -ingester.ring.instance-id: Mimir's default is the hostname. Here the default is '' and means
//   the hostname (resolveInstanceId), so -help does not depend on the machine it runs on.
// - -ingester.ring.instance-addr '' means the first non-loopback IPv4 address of the host (Mimir
//   picks one from -ingester.ring.instance-interface-names), or 127.0.0.1 if there is none.
import { hostname, networkInterfaces } from 'node:os';
import { boolOpt, defineGroup, durationOpt, enumOpt, intOpt, listOpt, stringOpt, type Values } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { KVClient } from './kv/kv.js';
import type { LifecyclerOptions } from './lifecycler.js';
import type { RingOptions } from './ring.js';

export const RING_STORES = ['inmemory', 'etcd'] as const;
export type RingStore = (typeof RING_STORES)[number];

/** The ingesters' ring key under the prefix, as Mimir names it. */
export const INGESTER_RING_KEY = 'ring';

export const ingesterRingConfig = defineGroup('ingester ring', {
  store: enumOpt('ingester.ring.store', 'ingester.ring.kvstore.store', 'inmemory', RING_STORES, 'Backend storage to use for the ring; inmemory works within one process only (-target=all).'),
  prefix: stringOpt('ingester.ring.prefix', 'ingester.ring.kvstore.prefix', 'collectors/', 'The prefix for the keys in the store. Should end with a /.'),
  etcdEndpoints: listOpt('ingester.ring.etcd.endpoints', 'ingester.ring.kvstore.etcd.endpoints', [], 'The etcd endpoints to connect to.'),
  etcdDialTimeout: durationOpt('ingester.ring.etcd.dial-timeout', 'ingester.ring.kvstore.etcd.dial_timeout', 10_000, 'The dial timeout for the etcd connection.'),
  numTokens: intOpt('ingester.ring.num-tokens', 'ingester.ring.num_tokens', 128, 'Number of tokens for each ingester.', { min: 1, max: 65_536 }),
  replicationFactor: intOpt('ingester.ring.replication-factor', 'ingester.ring.replication_factor', 3, 'Number of ingesters that each time series is replicated to.', { min: 1 }),
  zoneAwarenessEnabled: boolOpt('ingester.ring.zone-awareness-enabled', 'ingester.ring.zone_awareness_enabled', false, 'True to enable the zone-awareness and replicate ingested samples across different availability zones.'),
  instanceZone: stringOpt('ingester.ring.instance-availability-zone', 'ingester.ring.instance_availability_zone', '', 'The availability zone where this instance is running.'),
  instanceId: stringOpt('ingester.ring.instance-id', 'ingester.ring.instance_id', '', 'Instance ID to register in the ring; empty means the hostname.'),
  instanceAddr: stringOpt('ingester.ring.instance-addr', 'ingester.ring.instance_addr', '', 'IP address to advertise in the ring; empty means the first non-loopback IPv4 address of the host.'),
  instancePort: intOpt('ingester.ring.instance-port', 'ingester.ring.instance_port', 0, 'Port to advertise in the ring; 0 means the gRPC server listen port.', { min: 0, max: 65535 }),
  heartbeatPeriod: durationOpt('ingester.ring.heartbeat-period', 'ingester.ring.heartbeat_period', 15_000, 'Period at which to heartbeat to the ring.', { min: 1 }),
  heartbeatTimeout: durationOpt('ingester.ring.heartbeat-timeout', 'ingester.ring.heartbeat_timeout', 60_000, 'The heartbeat timeout after which ingesters are skipped for reads/writes. 0 = never (timeout disabled).'),
  tokensFilePath: stringOpt('ingester.ring.tokens-file-path', 'ingester.ring.tokens_file_path', '', 'File path where tokens are stored. If empty, tokens are not stored at shutdown and restored at startup.'),
  unregisterOnShutdown: boolOpt('ingester.ring.unregister-on-shutdown', 'ingester.ring.unregister_on_shutdown', true, 'Unregister from the ring upon clean shutdown. It can be useful to disable for rolling restarts with consistent naming.'),
}, (v) => {
  if (v.store === 'etcd' && v.etcdEndpoints.length === 0) throw new Error('-ingester.ring.etcd.endpoints must be set when -ingester.ring.store=etcd');
  if (v.heartbeatTimeout > 0 && v.heartbeatTimeout < v.heartbeatPeriod) {
    throw new Error('-ingester.ring.heartbeat-timeout must not be shorter than -ingester.ring.heartbeat-period (or be 0 to disable it), or every instance would flap unhealthy');
  }
});

export type IngesterRingConfig = Values<typeof ingesterRingConfig.options>;

/** The ring key in the store: prefix + "ring" ("collectors/ring" by default). */
export function ingesterRingKey(cfg: IngesterRingConfig): string {
  return `${cfg.prefix}${INGESTER_RING_KEY}`;
}

export function resolveInstanceId(cfg: IngesterRingConfig): string {
  return cfg.instanceId !== '' ? cfg.instanceId : hostname();
}

/** The first non-internal IPv4 address of the host, or 127.0.0.1. */
export function defaultInstanceHost(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** host:port to advertise: the configured or detected host, the configured port or the gRPC port. */
export function resolveInstanceAddr(cfg: IngesterRingConfig, grpcPort: number): string {
  const host = cfg.instanceAddr !== '' ? cfg.instanceAddr : defaultInstanceHost();
  const port = cfg.instancePort !== 0 ? cfg.instancePort : grpcPort;
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Options for Ring snapshots (RingWatcher, distributors, queriers). */
export function ringOptionsFromConfig(cfg: IngesterRingConfig): RingOptions {
  return { replicationFactor: cfg.replicationFactor, zoneAwarenessEnabled: cfg.zoneAwarenessEnabled, heartbeatTimeoutMs: cfg.heartbeatTimeout };
}

/**
 * Options for an ingester's Lifecycler. Throws when zone awareness is on but this instance has no
 * zone (it would land in no zone and break the one-replica-per-zone rule).
 */
export function lifecyclerOptionsFromConfig(cfg: IngesterRingConfig, deps: { kv: KVClient; grpcPort: number; log: Logger }): LifecyclerOptions {
  if (cfg.zoneAwarenessEnabled && cfg.instanceZone === '') {
    throw new Error('-ingester.ring.zone-awareness-enabled is set but -ingester.ring.instance-availability-zone is empty');
  }
  return {
    kv: deps.kv,
    ringKey: ingesterRingKey(cfg),
    instanceId: resolveInstanceId(cfg),
    addr: resolveInstanceAddr(cfg, deps.grpcPort),
    zone: cfg.instanceZone,
    numTokens: cfg.numTokens,
    heartbeatPeriodMs: cfg.heartbeatPeriod,
    tokensFilePath: cfg.tokensFilePath,
    unregisterOnShutdown: cfg.unregisterOnShutdown,
    log: deps.log,
  };
}
