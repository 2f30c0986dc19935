// Metric metadata in an ingester (Mimir's ingester metadata: in memory only, not in the WAL).
// Each tenant keeps, per metric family name, the distinct (type, help, unit) entries it was sent,
// each with the time it was last sent; entries not sent again within -ingester.metadata-retain-period
// are purged. -ingester.max-global-metadata-per-user / -per-metric bound them (this ingester's
// share, as for series); entries over a limit are discarded and counted, the push still succeeds
// (metadata is not worth failing samples for).

/** Remote write's MetricMetadata.MetricType (1.0 and 2.0 number them alike) as the API names it. */
const TYPE_NAMES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'] as const;

export function metricTypeName(t: number): string {
  return TYPE_NAMES[t] ?? 'unknown';
}

export interface MetricMetadata {
  metric: string;
  /** Prometheus's lowercase name: counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown. */
  type: string;
  help: string;
  unit: string;
}

export interface MetadataLimits {
  /** This ingester's share; 0 = none. */
  maxPerUser: number;
  maxPerMetric: number;
}

interface Entry {
  type: string;
  help: string;
  unit: string;
  lastSeen: number;
}

/** Why an entry was discarded (the reason label of cortex_discarded_metadata_total, as Mimir's). */
export type MetadataDiscardReason = 'per_user_metadata_limit' | 'per_metric_metadata_limit';

/** One entry's identity within its metric: type, help and unit. */
export function metadataEntryKey(m: { type: string; help: string; unit: string }): string {
  return `${m.type}\u0000${m.help}\u0000${m.unit}`;
}

export class TenantMetadata {
  private readonly families = new Map<string, Map<string, Entry>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds or refreshes one entry; the reason when a limit refused it, else null. */
  add(m: MetricMetadata, now: number, limits: MetadataLimits): MetadataDiscardReason | null {
    let fam = this.families.get(m.metric);
    const key = metadataEntryKey(m);
    const have = fam?.get(key);
    if (have !== undefined) {
      have.lastSeen = now;
      return null;
    }
    if (limits.maxPerUser > 0 && this.count >= limits.maxPerUser) return 'per_user_metadata_limit';
    if (limits.maxPerMetric > 0 && (fam?.size ?? 0) >= limits.maxPerMetric) return 'per_metric_metadata_limit';
    if (fam === undefined) {
      fam = new Map();
      this.families.set(m.metric, fam);
    }
    fam.set(key, { type: m.type, help: m.help, unit: m.unit, lastSeen: now });
    this.count++;
    return null;
  }

  /** Drops entries last sent before `before`; returns how many. */
  purge(before: number): number {
    let n = 0;
    for (const [name, fam] of this.families) {
      for (const [k, e] of fam) {
        if (e.lastSeen < before) {
          fam.delete(k);
          n++;
        }
      }
      if (fam.size === 0) this.families.delete(name);
    }
    this.count -= n;
    return n;
  }

  /** Every entry, by metric name, then type, help, unit. */
  list(): MetricMetadata[] {
    const out: MetricMetadata[] = [];
    for (const [metric, fam] of this.families) for (const e of fam.values()) out.push({ metric, type: e.type, help: e.help, unit: e.unit });
    return out.sort(compareMetadata);
  }
}

export function compareMetadata(a: MetricMetadata, b: MetricMetadata): number {
  return cmp(a.metric, b.metric) || cmp(a.type, b.type) || cmp(a.help, b.help) || cmp(a.unit, b.unit);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
