// Module registry (after dskit `modules`). A module has an init function that may return a
// service, and declared dependencies. For a set of targets the registry inits every module they
// need, dependencies first, and wraps each service so that it starts only once its dependencies
// are Running and stops only once every module depending on it has stopped: modules start in
// dependency order and stop in reverse, even when the manager starts and stops them all at once.
import { BasicService, type Service, State, isTerminal, waitForAbort } from './service.js';

export interface ModuleOptions {
  /** Shown in -target's help and accepted as a target. Internal modules are false. */
  userVisible?: boolean;
}

interface ModuleDef {
  name: string;
  init: () => Service | undefined | Promise<Service | undefined>;
  deps: string[];
  userVisible: boolean;
}

export class ModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModuleError';
  }
}

export class ModuleRegistry {
  private readonly modules = new Map<string, ModuleDef>();

  register(name: string, init: ModuleDef['init'], deps: string[] = [], opts: ModuleOptions = {}): void {
    if (this.modules.has(name)) throw new ModuleError(`module "${name}" registered twice`);
    this.modules.set(name, { name, init, deps: [...deps], userVisible: opts.userVisible ?? true });
  }

  addDependencies(name: string, ...deps: string[]): void {
    const m = this.modules.get(name);
    if (m === undefined) throw new ModuleError(`unknown module "${name}"`);
    m.deps.push(...deps);
  }

  has(name: string): boolean {
    return this.modules.has(name);
  }

  userVisibleNames(): string[] {
    return [...this.modules.values()].filter((m) => m.userVisible).map((m) => m.name).sort();
  }

  /**
   * Every module the targets need, each after all its dependencies. An unknown module (as a
   * target or a dependency) or a dependency cycle is an error naming it.
   */
  orderFor(targets: string[]): string[] {
    const order: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, path: string[]): void => {
      const st = state.get(name);
      if (st === 'done') return;
      if (st === 'visiting') {
        const cycle = [...path.slice(path.indexOf(name)), name];
        throw new ModuleError(`dependency cycle between modules: ${cycle.join(' -> ')}`);
      }
      const m = this.modules.get(name);
      if (m === undefined) {
        const by = path.length > 0 ? ` (a dependency of "${path[path.length - 1]}")` : '';
        throw new ModuleError(`unknown module "${name}"${by}; known: ${this.userVisibleNames().join(', ')}`);
      }
      state.set(name, 'visiting');
      for (const d of m.deps) visit(d, [...path, name]);
      state.set(name, 'done');
      order.push(name);
    };
    for (const t of targets) visit(t, []);
    return order;
  }

  /**
   * Inits the modules the targets need, in dependency order, and returns their wrapped services
   * in that order. Modules whose init returns no service are left out (their dependants wait on
   * the services below them).
   */
  async initServices(targets: string[]): Promise<ModuleService[]> {
    const order = this.orderFor(targets);
    const raw = new Map<string, Service>();
    for (const name of order) {
      const m = this.modules.get(name) as ModuleDef;
      let svc: Service | undefined;
      try {
        svc = await m.init();
      } catch (e) {
        throw new ModuleError(`initialising module "${name}": ${e instanceof Error ? e.message : String(e)}`);
      }
      if (svc !== undefined) raw.set(name, svc);
    }
    // nearest dependencies that have a service, through service-less modules
    const serviceDeps = (name: string, seen = new Set<string>()): string[] => {
      const out: string[] = [];
      for (const d of (this.modules.get(name) as ModuleDef).deps) {
        if (seen.has(d)) continue;
        seen.add(d);
        if (raw.has(d)) out.push(d);
        else out.push(...serviceDeps(d, seen));
      }
      return out;
    };
    const wrapped = new Map<string, ModuleService>();
    const dependants = new Map<string, ModuleService[]>();
    for (const name of order) {
      const inner = raw.get(name);
      if (inner === undefined) continue;
      const deps = serviceDeps(name).map((d) => wrapped.get(d) as ModuleService);
      const ms = new ModuleService(name, inner, deps, () => dependants.get(name) ?? []);
      wrapped.set(name, ms);
      for (const d of deps) {
        const list = dependants.get(d.name) ?? [];
        list.push(ms);
        dependants.set(d.name, list);
      }
    }
    return [...wrapped.values()];
  }
}

/** Wraps a module's service with the ordering rules described above. */
export class ModuleService extends BasicService {
  readonly inner: Service;
  private readonly deps: Service[];
  private readonly dependants: () => Service[];

  constructor(name: string, inner: Service, deps: Service[], dependants: () => Service[]) {
    super(name);
    this.inner = inner;
    this.deps = deps;
    this.dependants = dependants;
    // A module that ends without having started its service (stopped while New, or a dependency
    // failed) ends that service too, so nothing awaiting it stays pending.
    this.addListener((_from, to) => {
      if (isTerminal(to) && inner.state() === State.New) inner.stopAsync();
    });
  }

  dependencyNames(): string[] {
    return this.deps.map((d) => d.name);
  }

  protected override async starting(signal: AbortSignal): Promise<void> {
    for (const d of this.deps) {
      try {
        await d.awaitRunning(signal);
      } catch (e) {
        if (signal.aborted) return;
        throw new ModuleError(`module "${this.name}": dependency "${d.name}" did not start: ${msg(d.failureCase() ?? e)}`);
      }
    }
    if (signal.aborted) return;
    // a dependency may have left Running while this module waited for the others
    for (const d of this.deps) {
      if (!isUp(d)) {
        throw new ModuleError(`module "${this.name}": dependency "${d.name}" is no longer running (${d.state()}): ${msg(failureOf(d) ?? 'stopped')}`);
      }
    }
    this.inner.startAsync();
    try {
      await this.inner.awaitRunning(signal);
    } catch (e) {
      if (signal.aborted) return; // stopping() takes care of the inner service
      throw this.inner.failureCase() ?? e;
    }
  }

  protected override async running(signal: AbortSignal): Promise<void> {
    // Runs until asked to stop, or until the inner service leaves Running by itself.
    const innerLeft = new Promise<void>((resolve) => {
      if (this.inner.state() !== State.Running) return resolve();
      const off = this.inner.addListener((_f, to) => {
        if (to !== State.Running) {
          off();
          resolve();
        }
      });
      signal.addEventListener('abort', () => off(), { once: true });
    });
    await Promise.race([waitForAbort(signal), innerLeft]);
    if (signal.aborted) return;
    const f = this.inner.failureCase();
    throw f ?? new ModuleError(`module "${this.name}" stopped unexpectedly (state ${this.inner.state()})`);
  }

  protected override async stopping(): Promise<void> {
    const s = this.inner.state();
    if (s === State.New || s === State.Starting || s === State.Running) {
      // stop only after everything that depends on this module has stopped
      await Promise.all(this.dependants().map((d) => d.awaitTerminated().catch(() => undefined)));
      this.inner.stopAsync();
    }
    // else the service already left Running by itself (it failed or returned): there is nothing
    // left to order, and waiting for the dependants would hold back the failure report that
    // makes the app stop them
    await this.inner.awaitTerminated();
  }
}

/** Running, and for a module also its inner service (which may be leaving Running right now). */
function isUp(s: Service): boolean {
  return s.state() === State.Running && (!(s instanceof ModuleService) || s.inner.state() === State.Running);
}

function failureOf(s: Service): Error | undefined {
  return s.failureCase() ?? (s instanceof ModuleService ? s.inner.failureCase() : undefined);
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
