// A group of services started and stopped together (after dskit `services.Manager`).
import { type Service, State, isTerminal } from './service.js';

export class Manager {
  private readonly services: Service[];
  private readonly failureListeners = new Set<(svc: Service, err: Error) => void>();

  constructor(services: Service[]) {
    this.services = [...services];
    for (const svc of this.services) {
      svc.addListener((_from, to, failure) => {
        if (to !== State.Failed) return;
        const err = failure ?? new Error(`service "${svc.name}" failed`);
        for (const l of [...this.failureListeners]) {
          try {
            l(svc, err);
          } catch {
            // one throwing listener must not keep the others (e.g. the one stopping the app) from hearing
          }
        }
      });
    }
  }

  list(): readonly Service[] {
    return this.services;
  }

  /** Called once for each service that fails, whenever it does. */
  onFailure(listener: (svc: Service, err: Error) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  startAsync(): void {
    for (const svc of this.services) if (svc.state() === State.New) svc.startAsync();
  }

  /** Resolves when every service is Running; rejects as soon as one cannot get there. */
  async awaitHealthy(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.services.map((s) => s.awaitRunning(signal)));
  }

  stopAsync(): void {
    for (const svc of this.services) svc.stopAsync();
  }

  /** Resolves when every service is in a final state, whether it failed or not. */
  async awaitStopped(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.services.map((s) => s.awaitTerminated(signal).catch((e: unknown) => {
      if (signal?.aborted) throw e;
    })));
  }

  isHealthy(): boolean {
    return this.services.every((s) => s.state() === State.Running);
  }

  isStopped(): boolean {
    return this.services.every((s) => isTerminal(s.state()));
  }

  states(): Record<string, State> {
    const out: Record<string, State> = {};
    for (const s of this.services) out[s.name] = s.state();
    return out;
  }
}
