// The ingester module: the Ingester and its ring membership, as one service.
//   starting: the ingester opens and replays its tenants' WALs, then the lifecycler joins the ring
//             (PENDING -> JOINING -> ACTIVE), so distributors write to it only once it can take data;
//   stopping: the lifecycler leaves first (LEAVING: distributors stop writing to it and extend the
//             replica sets past it; then it unregisters unless -ingester.ring.unregister-on-shutdown
//             is false), then the ingester finishes its in-flight pushes and closes its WALs.
// Either part failing fails the module.
import type { Ingester } from '../ingester/index.js';
import { BasicService, State } from '../lifecycle/index.js';
import type { Lifecycler } from '../ring/index.js';

export class IngesterModule extends BasicService {
  private lifecycler: Lifecycler | undefined;

  constructor(
    readonly ingester: Ingester,
    private readonly makeLifecycler: () => Lifecycler,
  ) {
    super('ingester');
  }

  /** The lifecycler, once starting has created it. */
  ringLifecycler(): Lifecycler | undefined {
    return this.lifecycler;
  }

  protected override async starting(signal: AbortSignal): Promise<void> {
    this.ingester.startAsync();
    await this.ingester.awaitRunning(signal);
    const lc = this.makeLifecycler();
    this.lifecycler = lc;
    lc.startAsync();
    await lc.awaitRunning(signal);
  }

  protected override async running(signal: AbortSignal): Promise<void> {
    // runs until stopped, or until one of the parts fails on its own
    await new Promise<void>((resolve, reject) => {
      const parts = [this.ingester, this.lifecycler].filter((p): p is NonNullable<typeof p> => p !== undefined);
      const check = (): void => {
        for (const p of parts) {
          if (p.state() === State.Failed) reject(p.failureCase() ?? new Error(`${p.name} failed`));
          else if (p.state() === State.Terminated) reject(new Error(`${p.name} stopped on its own`));
        }
      };
      const unsubs = parts.map((p) => p.addListener(() => check()));
      signal.addEventListener('abort', () => {
        for (const u of unsubs) u();
        resolve();
      }, { once: true });
      check();
    });
  }

  protected override async stopping(): Promise<void> {
    const lc = this.lifecycler;
    if (lc !== undefined) {
      lc.stopAsync();
      await lc.awaitTerminated().catch(() => undefined);
    }
    this.ingester.stopAsync();
    await this.ingester.awaitTerminated();
  }
}
