// The hash ring: its data model and codec, lookups and replication (Ring), an instance's
// membership (Lifecycler), clients' view (RingWatcher), the KV store interface and the in-memory
// store, the ring page's rendering, and the ingesters' ring options.
export {
  type InstanceState, type InstanceDesc, type RingDesc, type DroppedInstance, type RingDecodeResult,
  INSTANCE_STATES, EMPTY_RING_DESC, MAX_RING_BYTES, MAX_INSTANCES, MAX_TOKENS_PER_INSTANCE, MAX_ID_LENGTH,
  encodeRingDesc, decodeRingDesc, mergeRingDescs, withInstance, withoutInstance, getInstance, ringTokens, sortedIds, compareIds, sortUnique,
} from './model.js';
export {
  Ring, RingError, extendsReplicaSet, isHeartbeatHealthy, isInstanceHealthy,
  type Operation, type RingOptions, type ReplicationSet, type RingErrorReason,
} from './ring.js';
export { generateTokens, loadTokensFile, saveTokensFile, encodeTokensFile, decodeTokensFile } from './tokens.js';
export { casRing, forgetInstance, forgetUnhealthyInstances, instancesToForget, type CasRingOptions } from './ops.js';
export { Lifecycler, type LifecyclerOptions } from './lifecycler.js';
export { RingWatcher, type RingWatcherOptions, type RingListener } from './watcher.js';
export { renderRingHtml, ringJson, ringPageRows, escapeHtml, FORGET_FORM_FIELD, type RingPageRow } from './http.js';
export {
  ingesterRingConfig, ingesterRingKey, resolveInstanceId, resolveInstanceAddr, defaultInstanceHost, ringOptionsFromConfig, lifecyclerOptionsFromConfig,
  INGESTER_RING_KEY, RING_STORES, type RingStore, type IngesterRingConfig,
} from './config.js';
export { type KVClient, KVError, type KVErrorReason, abortReason } from './kv/kv.js';
export { InMemoryKV } from './kv/inmemory.js';
export { registerRingPage } from './routes.js';
export { KVProvider, type KVStoreConfig } from './kv/provider.js';
