// Chunk encodings for sample data. XOR (Gorilla) for floats, bit-exact with Prometheus.
// Layout: docs/formats/xor-chunk.md.
export { XorChunk, MAX_SAMPLES_PER_CHUNK } from './xor.js';
export type { XorAppender } from './xor.js';
export { XorEncoder, UNSET_LEADING } from './xor-encoder.js';
export { BitWriter } from './bstream.js';
export { ChunkCorruptError, XorIterator } from './xor-iterator.js';
export type { ChunkIterator } from './xor-iterator.js';
export { STALE_NAN, STALE_NAN_BITS, isStaleNaN, floatToBits, floatFromBits } from './bits64.js';
