// Per-tenant string interner. Label names and values repeat across series (__name__, job, env,
// ...): interning makes every series that shares a value point at one string, so the head pays
// for each distinct string once, and equality checks between interned strings are pointer checks.
import type { Labels } from './labels.js';

export class SymbolTable {
  private table = new Map<string, string>();

  /** The table's copy of `s` (adding `s` if it is new). */
  intern(s: string): string {
    const have = this.table.get(s);
    if (have !== undefined) return have;
    this.table.set(s, s);
    return s;
  }

  /** The interned copy of `s`, or undefined when the table does not hold it; adds nothing. */
  lookup(s: string): string | undefined {
    return this.table.get(s);
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * Drops every string not used by `live` (the label sets of the series still in the head).
   * Without this the table only grows under series churn; the head calls it after its series GC.
   * The strings kept are the same objects, so label sets already built keep sharing them.
   */
  retainOnly(live: Iterable<Labels>): void {
    const next = new Map<string, string>();
    for (const ls of live) {
      for (let i = 0; i < ls.length; i++) {
        const s = ls[i] as string;
        if (!next.has(s)) next.set(s, this.table.get(s) ?? s);
      }
    }
    this.table = next;
  }

  clear(): void {
    this.table.clear();
  }
}
