// The runtime config service (dskit runtimeconfig.Manager): loads -runtime-config.file when it
// starts (a failure fails the start), then re-reads the file(s) every -runtime-config.reload-period
// and applies them to the Overrides when their sha256 changed. A failed reload keeps the config
// in effect; it is logged once when a failure streak starts (and again if the error changes), and
// once when reloads succeed again. Without a file the service does nothing: defaults only.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BasicService, sleep, waitForAbort } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import { Gauge, type Registry } from '../metrics/index.js';
import { type RuntimeConfigConfig, runtimeConfigFiles } from './config.js';
import type { LimitDefaults } from './limits.js';
import { Overrides } from './overrides.js';
import { RuntimeConfigError, mergeRuntimeConfigs, parseRuntimeConfig } from './parse.js';

export type ReadFileFn = (path: string, signal: AbortSignal) => Promise<Uint8Array | string>;

interface BaseOptions {
  config: RuntimeConfigConfig;
  log: Logger;
  registry: Registry;
  /** Reads a file; fs.promises.readFile by default. */
  readFile?: ReadFileFn;
}

/**
 * Either `defaults` (the process config's limits; the service builds its Overrides from them) or
 * an existing `overrides` to apply the runtime config to.
 */
export type RuntimeConfigServiceOptions = BaseOptions &
  ({ defaults: LimitDefaults; overrides?: undefined } | { overrides: Overrides; defaults?: undefined });

export type ReloadResult =
  | { status: 'applied'; hash: string; changedTenants: string[] }
  | { status: 'unchanged'; hash: string }
  | { status: 'failed'; error: Error }
  | { status: 'disabled' };

export type RuntimeConfigListener = (changedTenants: readonly string[]) => void;

/** Timers longer than this overflow Node's setTimeout (it would fire after 1ms). */
const MAX_TIMER_MS = 2_147_483_647;

export class RuntimeConfigService extends BasicService {
  readonly files: readonly string[];
  readonly overrides: Overrides;
  private readonly periodMs: number;
  private readonly log: Logger;
  private readonly read: ReadFileFn;
  private readonly metrics: RuntimeConfigMetrics;
  private appliedHash: string | undefined;
  private reloadError: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly changeListeners = new Set<RuntimeConfigListener>();

  constructor(opts: RuntimeConfigServiceOptions) {
    super('runtime-config');
    this.files = runtimeConfigFiles(opts.config);
    this.periodMs = opts.config.reloadPeriod;
    this.overrides = opts.overrides ?? new Overrides(opts.defaults);
    this.log = opts.log.child({ component: 'runtime-config' });
    this.read = opts.readFile ?? ((p, signal) => readFile(p, { signal }));
    this.metrics = new RuntimeConfigMetrics(opts.registry);
  }

  /** Whether a runtime config file has been applied (never, without -runtime-config.file). */
  loaded(): boolean {
    return this.appliedHash !== undefined;
  }

  /** The sha256 of the applied file(s), as cortex_runtime_config_hash shows it. */
  hash(): string | undefined {
    return this.appliedHash;
  }

  /** The error of the last reload if it failed; undefined after a success. */
  lastError(): Error | undefined {
    return this.reloadError;
  }

  /** Calls `l` with the tenants whose limits changed whenever a reload changes any. */
  onChange(l: RuntimeConfigListener): () => void {
    this.changeListeners.add(l);
    return () => this.changeListeners.delete(l);
  }

  /**
   * Reloads now (the periodic reload does the same). Never throws: a failure keeps the config in
   * effect and is reported in the result, the metric and the log. Reloads run one at a time.
   */
  reload(signal?: AbortSignal): Promise<ReloadResult> {
    return this.serialized(async (): Promise<ReloadResult> => {
      if (this.files.length === 0) return { status: 'disabled' };
      const sig = signal ?? new AbortController().signal;
      try {
        const r = await this.load(sig);
        if (this.reloadError !== undefined) this.log.info({ files: this.files }, 'runtime config reloads succeed again');
        this.reloadError = undefined;
        return r;
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        if (sig.aborted) return { status: 'failed', error }; // stopping: not a broken file
        if (this.reloadError === undefined || this.reloadError.message !== error.message) {
          this.log.error({ err: error, files: this.files }, 'failed to reload the runtime config; keeping the config in effect');
        }
        this.reloadError = error;
        return { status: 'failed', error };
      }
    });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  protected override async starting(signal: AbortSignal): Promise<void> {
    if (this.files.length === 0) {
      this.metrics.lastReloadSuccessful.set(1);
      return;
    }
    try {
      const r = await this.serialized(() => this.load(signal));
      this.log.info({ files: this.files, sha256: r.hash, tenants: this.overrides.tenants().length }, 'runtime config loaded');
    } catch (e) {
      if (signal.aborted) return; // stopped while starting: not a failure
      const msg = e instanceof Error ? e.message : String(e);
      throw new RuntimeConfigError(`failed to load runtime config: ${msg}`);
    }
  }

  protected override async running(signal: AbortSignal): Promise<void> {
    if (this.files.length === 0) {
      this.log.info('runtime config disabled: file not specified');
      await waitForAbort(signal);
      return;
    }
    const delay = Math.min(this.periodMs, MAX_TIMER_MS);
    while (!signal.aborted) {
      await sleep(delay, signal); // unref'd, and cleared when the signal aborts
      if (signal.aborted) break;
      await this.reload(signal);
    }
  }

  protected override async stopping(): Promise<void> {
    await this.queue; // a reload in flight finishes (its read is aborted) before Terminated
  }

  /** Reads, hashes, parses, merges and applies the files; throws naming the file at fault. */
  private async load(signal: AbortSignal): Promise<Exclude<ReloadResult, { status: 'failed' | 'disabled' }>> {
    let contents: Uint8Array[];
    try {
      contents = await Promise.all(this.files.map(async (f) => {
        try {
          const c = await this.read(f, signal);
          return typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
        } catch (e) {
          throw new RuntimeConfigError(`runtime config file "${f}": cannot read: ${(e as Error).message}`);
        }
      }));
      const hash = hashFiles(this.files, contents);
      if (hash === this.appliedHash) {
        this.metrics.lastReloadSuccessful.set(1);
        return { status: 'unchanged', hash };
      }
      const parsed = contents.map((c, i) => parseRuntimeConfig(decodeUtf8(c, this.files[i] as string), this.files[i] as string));
      const merged = mergeRuntimeConfigs(parsed);
      let changedTenants: string[];
      try {
        changedTenants = this.overrides.apply(merged);
      } catch (e) {
        const which = this.files.length === 1 ? `file "${this.files[0]}"` : `files ${this.files.map((f) => `"${f}"`).join(', ')}`;
        throw new RuntimeConfigError(`runtime config ${which}: ${(e as Error).message}`);
      }
      this.appliedHash = hash;
      this.metrics.lastReloadSuccessful.set(1);
      this.metrics.hash.reset();
      this.metrics.hash.set({ sha256: hash }, 1);
      if (changedTenants.length > 0) {
        this.log.info({ sha256: hash, changedTenants }, 'runtime config applied: tenant limits changed');
        for (const l of [...this.changeListeners]) {
          try {
            l(changedTenants);
          } catch (e) {
            this.log.error({ err: e }, 'runtime config listener failed');
          }
        }
      } else {
        this.log.debug({ sha256: hash }, 'runtime config applied: no tenant limit changed');
      }
      return { status: 'applied', hash, changedTenants };
    } catch (e) {
      if (!signal.aborted) this.metrics.lastReloadSuccessful.set(0);
      throw e;
    }
  }
}

/**
 * One file: the sha256 of its content (what sha256sum prints). Several: dskit's combined hash, a
 * sha256 over each file's name length (uint64 big-endian), name and content digest.
 */
export function hashFiles(files: readonly string[], contents: readonly Uint8Array[]): string {
  if (files.length === 1) return createHash('sha256').update(contents[0] as Uint8Array).digest('hex');
  const h = createHash('sha256');
  files.forEach((f, i) => {
    const name = Buffer.from(f, 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(name.length));
    h.update(len).update(name).update(createHash('sha256').update(contents[i] as Uint8Array).digest());
  });
  return h.digest('hex');
}

function decodeUtf8(b: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    throw new RuntimeConfigError(`runtime config file "${file}": not valid UTF-8`);
  }
}

/** Mimir's runtime config metrics; get-or-create, so several services may share a registry. */
class RuntimeConfigMetrics {
  readonly lastReloadSuccessful: Gauge;
  readonly hash: Gauge<'sha256'>;

  constructor(registry: Registry) {
    this.lastReloadSuccessful = getOrCreateGauge(registry, 'cortex_runtime_config_last_reload_successful',
      'Whether the last runtime-config reload attempt was successful.', []) as Gauge;
    this.hash = getOrCreateGauge(registry, 'cortex_runtime_config_hash',
      'Hash of the currently active runtime configuration, merged from all configured files.', ['sha256']) as Gauge<'sha256'>;
  }
}

function getOrCreateGauge(registry: Registry, name: string, help: string, labelNames: string[]): Gauge<string> {
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) {
    if (!(existing instanceof Gauge)) throw new Error(`metric ${name} is registered, but not as a gauge`);
    return existing as Gauge<string>;
  }
  return new Gauge({ name, help, labelNames, registers: [registry] });
}
