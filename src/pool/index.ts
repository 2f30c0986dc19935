export { WorkPool } from './work-pool.js';
export type { Task, WorkPoolOptions } from './work-pool.js';
