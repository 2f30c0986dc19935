// Services: the unit of lifecycle (after grafana/dskit `services`). A service goes
// New -> Starting -> Running -> Stopping -> Terminated, or to Failed from Starting, Running or
// Stopping. Terminated and Failed are final. stopAsync() is idempotent and never blocks; awaits
// take an AbortSignal and never stay pending once the service is in a final state.

export enum State {
  New = 'New',
  Starting = 'Starting',
  Running = 'Running',
  Stopping = 'Stopping',
  Terminated = 'Terminated',
  Failed = 'Failed',
}

export function isTerminal(s: State): boolean {
  return s === State.Terminated || s === State.Failed;
}

export type StateListener = (from: State, to: State, failure: Error | undefined) => void;

export interface Service {
  readonly name: string;
  state(): State;
  /** Starts the service if it is New; an error if it is in any other state. */
  startAsync(): void;
  /** Requests a stop. New goes straight to Terminated; Starting is aborted; final states stay. */
  stopAsync(): void;
  /** Resolves when Running; rejects if the service can no longer get there, or on abort. */
  awaitRunning(signal?: AbortSignal): Promise<void>;
  /** Resolves on Terminated; rejects with the failure on Failed, or on abort. */
  awaitTerminated(signal?: AbortSignal): Promise<void>;
  failureCase(): Error | undefined;
  addListener(listener: StateListener): () => void;
}

export interface ServiceFns {
  /** Runs in Starting. The signal aborts when stopAsync() is called meanwhile. */
  starting?: (signal: AbortSignal) => Promise<void>;
  /** Runs in Running. Should return when the signal aborts; returning earlier stops the service. */
  running?: (signal: AbortSignal) => Promise<void>;
  /** Runs in Stopping, whatever way the service got there; failure is set if it got there by failing. */
  stopping?: (failure: Error | undefined) => Promise<void>;
}

export class ServiceStateError extends Error {
  constructor(name: string, expected: string, actual: State) {
    super(`service "${name}": expected ${expected}, but state is ${actual}`);
    this.name = 'ServiceStateError';
  }
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error('aborted');
}

/** A service built from up to three functions, or subclassed (override the protected methods). */
export class BasicService implements Service {
  readonly name: string;
  private st: State = State.New;
  private failure: Error | undefined;
  private readonly listeners = new Set<StateListener>();
  private readonly stopCtl = new AbortController();
  private readonly fns: ServiceFns;

  constructor(name: string, fns: ServiceFns = {}) {
    this.name = name;
    this.fns = fns;
  }

  protected starting(signal: AbortSignal): Promise<void> {
    return this.fns.starting ? this.fns.starting(signal) : Promise.resolve();
  }
  protected running(signal: AbortSignal): Promise<void> {
    if (this.fns.running) return this.fns.running(signal);
    return waitForAbort(signal);
  }
  protected stopping(failure: Error | undefined): Promise<void> {
    return this.fns.stopping ? this.fns.stopping(failure) : Promise.resolve();
  }

  state(): State {
    return this.st;
  }

  failureCase(): Error | undefined {
    return this.failure;
  }

  addListener(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  startAsync(): void {
    if (this.st !== State.New) throw new ServiceStateError(this.name, State.New, this.st);
    this.transition(State.Starting);
    void this.main();
  }

  stopAsync(): void {
    if (this.st === State.New) {
      this.transition(State.Terminated);
      return;
    }
    this.stopCtl.abort(new Error(`service "${this.name}" stopping`));
  }

  awaitRunning(signal?: AbortSignal): Promise<void> {
    return this.awaitState(signal, (s) => {
      if (s === State.Running) return 'ok';
      if (s === State.New || s === State.Starting) return 'wait';
      return new ServiceStateError(this.name, State.Running, s);
    });
  }

  awaitTerminated(signal?: AbortSignal): Promise<void> {
    return this.awaitState(signal, (s) => {
      if (s === State.Terminated) return 'ok';
      if (s === State.Failed) return this.failure ?? new Error(`service "${this.name}" failed`);
      return 'wait';
    });
  }

  private awaitState(signal: AbortSignal | undefined, check: (s: State) => 'ok' | 'wait' | Error): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const first = check(this.st);
      if (first === 'ok') return resolve();
      if (first !== 'wait') return reject(first);
      if (signal?.aborted) return reject(abortError(signal));
      const onAbort = (): void => {
        off();
        reject(abortError(signal as AbortSignal));
      };
      const off = this.addListener((_from, to) => {
        const r = check(to);
        if (r === 'wait') return;
        off();
        signal?.removeEventListener('abort', onAbort);
        if (r === 'ok') resolve();
        else reject(r);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async main(): Promise<void> {
    const signal = this.stopCtl.signal;
    try {
      await this.starting(signal);
    } catch (e) {
      // as in dskit: a failed start goes to Failed without running stopping(); cleaning up a
      // half-done start is the starting function's job
      await this.fail(toError(e), false);
      return;
    }
    if (!signal.aborted) {
      this.transition(State.Running);
      try {
        await this.running(signal);
      } catch (e) {
        await this.fail(toError(e), true);
        return;
      }
    }
    this.transition(State.Stopping);
    try {
      await this.stopping(undefined);
    } catch (e) {
      await this.fail(toError(e), false);
      return;
    }
    this.transition(State.Terminated);
  }

  private async fail(err: Error, runStopping: boolean): Promise<void> {
    this.failure = err;
    if (runStopping) {
      if (this.st !== State.Stopping) this.transition(State.Stopping);
      try {
        await this.stopping(err);
      } catch {
        // the first failure is the one reported
      }
    }
    // abort anything still waiting on the stop signal
    if (!this.stopCtl.signal.aborted) this.stopCtl.abort(err);
    this.transition(State.Failed);
  }

  private transition(to: State): void {
    const from = this.st;
    this.st = to;
    for (const l of [...this.listeners]) {
      try {
        l(from, to, this.failure);
      } catch {
        // a listener's error must not break the state machine
      }
    }
  }
}

/** Resolves when the signal aborts (immediately if already aborted). */
export function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Resolves after ms, or early (without rejecting) when the signal aborts. The timer is unref'd. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    t.unref();
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
