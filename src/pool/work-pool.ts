// A bounded work pool for fanning work out (the distributor's ingester pushes use it).
//
// The rule it exists for (DESIGN.md, "close is not send"): the Mimir 2.13 distributor panicked
// because a request still in flight submitted work to a pool that shutdown had already closed.
// Here submit() never throws: it returns a promise that settles with the task's result, or with a
// PoolClosedError (retryable, HTTP 503 / gRPC UNAVAILABLE) when the pool was closed before the
// task could be accepted. A task accepted before close() still runs, close() can wait for every
// accepted task to settle, and an abort of that wait cancels running tasks through their
// AbortSignal and settles the queued ones with PoolClosedError, so no promise stays pending.
import { MuninnError, PoolClosedError } from '../errors/index.js';

export type Task<T> = (signal: AbortSignal) => Promise<T> | T;

export interface WorkPoolOptions {
  name: string;
  /** Tasks running at once. */
  concurrency: number;
  /** Tasks waiting for a slot; past it submit() settles with a retryable error. Default unbounded. */
  maxQueued?: number;
}

interface Queued {
  task: Task<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class WorkPool {
  readonly name: string;
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly queue: Queued[] = [];
  private queueHead = 0;
  private running = 0;
  private closing = false;
  private closePromise: Promise<void> | undefined;
  private readonly drained: Array<() => void> = [];
  private readonly abortCtl = new AbortController();

  constructor(opts: WorkPoolOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
      throw new RangeError(`work pool "${opts.name}": concurrency must be a positive integer`);
    }
    this.name = opts.name;
    this.concurrency = opts.concurrency;
    this.maxQueued = opts.maxQueued ?? Infinity;
  }

  get inflight(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  get closed(): boolean {
    return this.closing;
  }

  /** Never throws. Settles with the task's outcome, or PoolClosedError if the pool is closed. */
  submit<T>(task: Task<T>): Promise<T> {
    if (this.closing) return Promise.reject(new PoolClosedError(this.name));
    if (this.queued >= this.maxQueued) {
      return Promise.reject(new MuninnError('unavailable', `work pool "${this.name}" is full (${this.maxQueued} tasks queued)`));
    }
    return new Promise<T>((resolve, reject) => {
      const q: Queued = { task: task as Task<unknown>, resolve: resolve as (v: unknown) => void, reject };
      if (this.running < this.concurrency) this.run(q);
      else this.queue.push(q);
    });
  }

  /**
   * Closes the pool: later submits settle with PoolClosedError. Resolves once every accepted task
   * has settled. If the signal aborts first, running tasks see their signal abort, queued tasks
   * settle with PoolClosedError, and close resolves at once. Idempotent; a second call joins the
   * first (and may bring a signal of its own).
   */
  close(signal?: AbortSignal): Promise<void> {
    this.closing = true;
    if (this.closePromise === undefined) {
      this.closePromise = this.running === 0 && this.queued === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => this.drained.push(resolve));
    }
    if (signal === undefined) return this.closePromise;
    if (signal.aborted) {
      this.abandon(signal.reason);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const onAbort = (): void => {
        this.abandon(signal.reason);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void (this.closePromise as Promise<void>).then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  private abandon(reason: unknown): void {
    while (this.queueHead < this.queue.length) {
      const q = this.queue[this.queueHead++] as Queued;
      q.reject(new PoolClosedError(this.name));
    }
    this.compact();
    if (!this.abortCtl.signal.aborted) this.abortCtl.abort(reason);
    this.checkDrained();
  }

  private run(q: Queued): void {
    this.running++;
    let p: Promise<unknown>;
    try {
      p = Promise.resolve(q.task(this.abortCtl.signal));
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(q.resolve, q.reject).finally(() => {
      this.running--;
      this.next();
    });
  }

  private next(): void {
    while (this.running < this.concurrency && this.queueHead < this.queue.length) {
      const q = this.queue[this.queueHead++] as Queued;
      this.run(q);
    }
    this.compact();
    this.checkDrained();
  }

  private compact(): void {
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    } else if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
  }

  private checkDrained(): void {
    if (!this.closing || this.running > 0 || this.queued > 0) return;
    for (const r of this.drained.splice(0)) r();
  }
}
