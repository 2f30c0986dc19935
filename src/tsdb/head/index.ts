export { TenantHead, AppendStats } from './head.js';
export type { HeadLimits, HeadOptions } from './head.js';
export { MemSeries, AppendCode, SAMPLES_PER_CHUNK } from './series.js';
export { SampleBuffer } from './sample-buffer.js';
export { WalBatch } from './wal-batch.js';
export { SampleError, sampleError } from './errors.js';
export type { DiscardReason } from './errors.js';
