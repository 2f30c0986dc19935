// The distributors' own ring (Mimir -distributor.ring.*): each distributor registers itself with
// one token so the others can count the healthy ones and divide the per-tenant rate limits. The
// defaults are Mimir's except the store (inmemory, as for the ingesters' ring).
import { defineGroup, durationOpt, enumOpt, intOpt, listOpt, stringOpt, type Values } from '../config/index.js';
import { RING_STORES } from '../ring/index.js';

/** The distributors' ring key under the prefix, as Mimir names it. */
export const DISTRIBUTOR_RING_KEY = 'distributor';

export const distributorRingConfig = defineGroup('distributor ring', {
  store: enumOpt('distributor.ring.store', 'distributor.ring.kvstore.store', 'inmemory', RING_STORES, 'Backend storage to use for the distributors\' ring; inmemory works within one process only.'),
  prefix: stringOpt('distributor.ring.prefix', 'distributor.ring.kvstore.prefix', 'collectors/', 'The prefix for the keys in the store. Should end with a /.'),
  etcdEndpoints: listOpt('distributor.ring.etcd.endpoints', 'distributor.ring.kvstore.etcd.endpoints', [], 'The etcd endpoints to connect to.'),
  etcdDialTimeout: durationOpt('distributor.ring.etcd.dial-timeout', 'distributor.ring.kvstore.etcd.dial_timeout', 10_000, 'The dial timeout for the etcd connection.'),
  heartbeatPeriod: durationOpt('distributor.ring.heartbeat-period', 'distributor.ring.heartbeat_period', 15_000, 'Period at which to heartbeat to the ring.', { min: 1 }),
  heartbeatTimeout: durationOpt('distributor.ring.heartbeat-timeout', 'distributor.ring.heartbeat_timeout', 60_000, 'The heartbeat timeout after which distributors are considered unhealthy within the ring. 0 = never (timeout disabled).'),
  instanceId: stringOpt('distributor.ring.instance-id', 'distributor.ring.instance_id', '', 'Instance ID to register in the ring; empty means the hostname.'),
  instanceAddr: stringOpt('distributor.ring.instance-addr', 'distributor.ring.instance_addr', '', 'IP address to advertise in the ring; empty means the first non-loopback IPv4 address of the host.'),
  instancePort: intOpt('distributor.ring.instance-port', 'distributor.ring.instance_port', 0, 'Port to advertise in the ring; 0 means the gRPC server listen port.', { min: 0, max: 65535 }),
}, (v) => {
  if (v.store === 'etcd' && v.etcdEndpoints.length === 0) throw new Error('-distributor.ring.etcd.endpoints must be set when -distributor.ring.store=etcd');
  if (v.heartbeatTimeout > 0 && v.heartbeatTimeout < v.heartbeatPeriod) {
    throw new Error('-distributor.ring.heartbeat-timeout must not be shorter than -distributor.ring.heartbeat-period (or be 0 to disable it)');
  }
});

export type DistributorRingConfig = Values<typeof distributorRingConfig.options>;
